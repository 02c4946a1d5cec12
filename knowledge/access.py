"""Who may see which collection: owners, shares and team collections, as query filters.

A collection belongs to one owner (a writer's account id and name, given by the studio) or to
the team (owner id 0: collections made while accounts were off). Names are unique per owner,
so two writers can each have "notes", and nobody can learn another writer's names by trying
them. A writer sees, through ``KnowledgeBase.for_owner``:

* their own collections, as ``notes`` (role "owner");
* team collections, as ``handbook`` (role "write": everyone may add to them);
* collections shared with them, as ``bob/notes`` (role "read" or "write").

Anything else reads exactly as if it did not exist. Without an owner (accounts off, or the
studio's own maintenance) every collection is visible, others' owned ones as ``bob/notes``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import select

from knowledge.errors import InvalidQuery, NotFound, UserError
from knowledge.schema import Collection, CollectionShare

ROLES = ("read", "write", "owner")
TEAM = 0  # owner id of team collections


@dataclass(frozen=True)
class Owner:
    """A writer as the knowledge base knows them: the account's id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class Visible:
    id: int
    name: str  # as this writer calls it: "notes", "handbook" or "bob/notes"
    role: str  # "read" | "write" | "owner"
    owner: str  # the owner's name; "" for a team collection


def check_name(name: str) -> str:
    """A collection name as stored: spaces collapsed, 1-200 characters, no ``/`` (it separates
    an owner's name from a shared collection's), no control or invisible formatting characters
    (bidi overrides could make one name look like another).

    >>> check_name("  field   notes ")
    'field notes'
    >>> check_name("carol/notes")
    Traceback (most recent call last):
    ...
    knowledge.errors.InvalidQuery: A collection name cannot contain '/': 'carol/notes'
    """
    clean = " ".join(str(name or "").split())
    if not clean:
        raise InvalidQuery("A collection needs a name", code="collection_name_empty")
    if len(clean) > 200:
        raise InvalidQuery(f"A collection name must be at most 200 characters but has {len(clean)}",
                           code="collection_name_too_long", length=len(clean))
    if "/" in clean:
        raise InvalidQuery(f"A collection name cannot contain '/': {clean!r}", code="collection_name_slash",
                           name=clean)
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in clean):
        raise InvalidQuery(f"A collection name cannot contain control or formatting characters: {clean!r}",
                           code="collection_name_control", name=clean)
    return clean


def visible(conn, owner: Owner | None) -> dict[int, Visible]:
    """Every collection ``owner`` may see, by id (all of them when ``owner`` is None)."""
    rows = conn.execute(select(Collection.id, Collection.name, Collection.owner_id,
                               Collection.owner_name)).all()
    if owner is None:
        return {r.id: Visible(r.id, r.name if r.owner_id == TEAM else f"{r.owner_name}/{r.name}",
                              "owner", r.owner_name) for r in rows}
    shared = dict(conn.execute(select(CollectionShare.collection_id, CollectionShare.role)
                               .where(CollectionShare.user_id == owner.id)).all())
    seen = {}
    for r in rows:
        if r.owner_id == owner.id:
            seen[r.id] = Visible(r.id, r.name, "owner", r.owner_name)
        elif r.owner_id == TEAM:
            seen[r.id] = Visible(r.id, r.name, "write", "")
        elif r.id in shared:
            seen[r.id] = Visible(r.id, f"{r.owner_name}/{r.name}", shared[r.id], r.owner_name)
    return seen


def resolve(conn, owner: Owner | None, name: str, need: str = "read") -> Visible:
    """The collection ``owner`` calls ``name``, if their role allows ``need``.

    Raises :class:`NotFound` for a name they cannot see (whether or not it exists) and
    :class:`UserError` when they can see it but not do ``need`` to it.
    """
    wanted = " ".join(str(name or "").split())
    found = next((v for v in visible(conn, owner).values() if v.name == wanted), None)
    if found is None:
        raise NotFound(f"There is no collection called {wanted!r}", code="no_collection", name=wanted)
    if ROLES.index(found.role) < ROLES.index(need):
        raise UserError(f"Collection {wanted!r} is shared with you read-only" if found.role == "read"
                        else f"Only the owner of {wanted!r} can do that",
                        code="read_only" if found.role == "read" else "owner_only", name=wanted)
    return found


def share(conn, collection_id: int, user_id: int | None, role: str) -> None:
    """Give account ``user_id`` "read" or "write" access to a collection, or take it ("none");
    ``user_id`` None: only check ``role``."""
    if role not in ("read", "write", "none"):
        raise InvalidQuery(f"Share as 'read', 'write' or 'none', not {role!r}", code="share_role", role=role)
    if user_id is None:
        return
    conn.execute(sa.delete(CollectionShare).where(CollectionShare.collection_id == collection_id,
                                                  CollectionShare.user_id == user_id))
    if role != "none":
        conn.execute(sa.insert(CollectionShare).values(collection_id=collection_id,
                                                       user_id=user_id, role=role))
