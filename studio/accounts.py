"""Writers' accounts, and who may see which collection.

Accounts are off until the first user is added (``python -m studio users add NAME``); from then
on the studio asks for a login and each writer sees only:

* collections they own (everything they create while logged in is private to them),
* collections shared with them, read-only ("read") or read-write ("write"),
* team collections: those with no owner, i.e. made before accounts were turned on,
* their own history (drafts, images, exports).

:class:`WriterKnowledge` is the knowledge base as one writer sees it; ``Studio.for_user`` puts
it (and a history bound to the writer) in place of the shared ones, so every path through the
studio, UI and API alike, goes through the same checks. Collection names are unique across the
studio, so creating a name another writer already uses is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from knowledge import KnowledgeBase
from knowledge.db import could_be_id
from knowledge.errors import InvalidQuery, NotFound, UserError
from knowledge.migrations import Migration, apply_migrations
from knowledge.schema import Chunk, Collection, Document

ROLES = ("read", "write", "owner")

_META = sa.MetaData()
USERS = sa.Table(
    "users", _META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
ACCESS = sa.Table(
    "collection_access", _META,
    sa.Column("collection_id", sa.Integer, sa.ForeignKey("collections.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(8), nullable=False),  # "owner" | "write" | "read"
)


def _create_accounts(conn: Connection) -> None:
    meta = sa.MetaData()
    sa.Table("collections", meta, autoload_with=conn)  # the knowledge base's, for the foreign key
    tables = [USERS.to_metadata(meta), ACCESS.to_metadata(meta)]
    meta.create_all(conn, tables=tables)


ACCOUNT_MIGRATIONS = [Migration("accounts-0001-users", _create_accounts)]

# scrypt at n=2**14, r=8: ~50 ms and 16 MB per check, OWASP's minimum for scrypt.
_SCRYPT = dict(n=2**14, r=8, p=1)


def hash_password(password: str) -> str:
    """A salted scrypt hash, stored as ``scrypt$n$r$p$salt$hash``.

    >>> stored = hash_password("tide pools")
    >>> stored.startswith("scrypt$16384$8$1$"), verify_password("tide pools", stored)
    (True, True)
    >>> verify_password("tide pool", stored)
    False
    """
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32,
                            n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(actual.hex(), digest)


def _check_name(name: str) -> str:
    clean = str(name or "").strip()
    if not clean or len(clean) > 100 or any(c.isspace() or c in ":/\\" for c in clean):
        raise UserError("A user name needs 1-100 characters without spaces, ':' or slashes")
    return clean


class Accounts:
    """Users and collection access in the studio's database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        apply_migrations(engine, ACCOUNT_MIGRATIONS)

    def _write(self):
        return self.engine.connect().execution_options(write=True)

    # --- users ------------------------------------------------------------------------------

    def add(self, name: str, password: str) -> None:
        name = _check_name(name)
        if len(password) < 8:
            raise UserError("A password needs at least 8 characters")
        with self._write() as conn, conn.begin():
            if conn.execute(sa.select(USERS.c.id).where(USERS.c.name == name)).first():
                raise UserError(f"There is already a user called {name!r}")
            conn.execute(USERS.insert().values(name=name, password_hash=hash_password(password),
                                               created_at=datetime.now(timezone.utc)))

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise UserError("A password needs at least 8 characters")
        with self._write() as conn, conn.begin():
            done = conn.execute(USERS.update().where(USERS.c.name == name)
                                .values(password_hash=hash_password(password))).rowcount
        if not done:
            raise NotFound(f"There is no user called {name!r}")

    def remove(self, name: str) -> None:
        """Remove a user and their access grants; collections they owned become team
        collections (nothing a writer stored is deleted with the account)."""
        with self._write() as conn, conn.begin():
            user_id = conn.execute(sa.select(USERS.c.id).where(USERS.c.name == name)).scalar()
            if user_id is None:
                raise NotFound(f"There is no user called {name!r}")
            owned = sa.select(ACCESS.c.collection_id).where(ACCESS.c.user_id == user_id,
                                                            ACCESS.c.role == "owner")
            conn.execute(ACCESS.delete().where(ACCESS.c.collection_id.in_(owned)))
            conn.execute(ACCESS.delete().where(ACCESS.c.user_id == user_id))
            conn.execute(USERS.delete().where(USERS.c.id == user_id))

    def names(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(USERS.c.name).order_by(USERS.c.name)).scalars())

    def enabled(self) -> bool:
        """Accounts are on once any user exists."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(USERS.c.id).limit(1)).first() is not None

    def check(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s (Gradio's login calls this)."""
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(USERS.c.password_hash)
                                  .where(USERS.c.name == str(name))).scalar()
        if stored is None:
            verify_password(password, hash_password("timing"))  # same work for unknown names
            return False
        return verify_password(str(password), stored)

    def user_id(self, conn: Connection, name: str) -> int:
        found = conn.execute(sa.select(USERS.c.id).where(USERS.c.name == name)).scalar()
        if found is None:
            raise NotFound(f"There is no user called {name!r}")
        return found

    # --- access -----------------------------------------------------------------------------

    def roles(self, user: str) -> dict[str, str]:
        """Collection name -> this writer's role, for every collection they may see."""
        mine = (sa.select(ACCESS.c.role).join(USERS, USERS.c.id == ACCESS.c.user_id)
                .where(ACCESS.c.collection_id == Collection.id, USERS.c.name == user)
                .scalar_subquery())
        owned = sa.exists().where(ACCESS.c.collection_id == Collection.id)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(Collection.name, mine, owned)).all()
        roles = {}
        for name, role, has_owner in rows:
            if role or not has_owner:
                roles[name] = role or "write"  # a team collection: everyone may write
        return roles

    def grant(self, conn: Connection, collection_id: int, user: str, role: str) -> None:
        user_id = self.user_id(conn, user)
        conn.execute(ACCESS.delete().where(ACCESS.c.collection_id == collection_id,
                                           ACCESS.c.user_id == user_id))
        if role != "none":
            conn.execute(ACCESS.insert().values(collection_id=collection_id, user_id=user_id, role=role))

    def shares(self, collection_id: int) -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(USERS.c.name, ACCESS.c.role)
                                     .join(USERS, USERS.c.id == ACCESS.c.user_id)
                                     .where(ACCESS.c.collection_id == collection_id)).all())


class WriterKnowledge:
    """The knowledge base as one logged-in writer sees it.

    Reads are limited to the writer's visible collections; writes need "write" (documents) or
    "owner" (rename, delete, share). Anything not visible is reported exactly as if it did not
    exist, so ids and names of other writers' material cannot be probed.
    """

    def __init__(self, kb: KnowledgeBase, accounts: Accounts, user: str):
        self._kb = kb
        self.accounts = accounts
        self.user = user
        self.default_collection = f"{user}/notes"
        # what the studio reads from the shared knowledge base as is
        self.settings, self.embedder, self.engine = kb.settings, kb.embedder, kb.engine

    def _roles(self) -> dict[str, str]:
        return self.accounts.roles(self.user)

    def _need(self, collection: str, role: str) -> None:
        have = self._roles().get(collection)
        if have is None:
            raise NotFound(f"There is no collection called {collection!r}", code="no_collection", name=collection)
        if ROLES.index(have) < ROLES.index(role):
            raise UserError(f"Collection {collection!r} is shared with you read-only"
                            if have == "read" else f"Only the owner of {collection!r} can do that",
                            code="read_only" if have == "read" else "owner_only", name=collection)

    # --- collections ------------------------------------------------------------------------

    def collections(self):
        roles = self._roles()
        return [c for c in self._kb.collections() if c.name in roles]

    def role(self, collection: str) -> str | None:
        return self._roles().get(collection)

    def create_collection(self, name: str):
        created = self._kb.create_collection(name)
        with self.accounts._write() as conn, conn.begin():
            self.accounts.grant(conn, created.id, self.user, "owner")
        return created

    def rename_collection(self, old: str, new: str) -> None:
        self._need(old, "owner")
        self._kb.rename_collection(old, new)

    def delete_collection(self, name: str) -> int:
        self._need(name, "owner")
        return self._kb.delete_collection(name)

    def share_collection(self, name: str, user: str, role: str) -> None:
        """Give ``user`` "read" or "write" access to ``name`` (or take it back with "none")."""
        if role not in ("read", "write", "none"):
            raise InvalidQuery(f"Share as 'read', 'write' or 'none', not {role!r}")
        self._need(name, "owner")
        if user == self.user:
            raise InvalidQuery("You own this collection already")
        collection_id = next(c.id for c in self._kb.collections() if c.name == name)
        with self.accounts._write() as conn, conn.begin():
            self.accounts.grant(conn, collection_id, user, role)

    # --- documents --------------------------------------------------------------------------

    def documents(self, collection: str | None = None):
        roles = self._roles()
        if collection is not None and collection not in roles:
            raise NotFound(f"There is no collection called {collection!r}", code="no_collection", name=collection)
        return [d for d in self._kb.documents(collection) if d.collection in roles]

    def _collection_of(self, column, value) -> str | None:
        query = sa.select(Collection.name).join(Document, Document.collection_id == Collection.id)
        if column is Chunk.id:
            query = query.join(Chunk, Chunk.document_id == Document.id)
        if not could_be_id(value):
            return None
        with self.engine.connect() as conn:
            return conn.execute(query.where(column == value)).scalar()

    def remove_document(self, document_id: int) -> None:
        collection = self._collection_of(Document.id, document_id)
        if collection is None or collection not in self._roles():
            raise NotFound(f"There is no document with id {document_id}", code="no_document", id=document_id)
        self._need(collection, "write")
        self._kb.remove_document(document_id)

    def document_text(self, document_id: int) -> str:
        if self._collection_of(Document.id, document_id) not in self._roles():
            raise NotFound(f"There is no document with id {document_id}", code="no_document", id=document_id)
        return self._kb.document_text(document_id)

    def chunk_text(self, chunk_id: int) -> str:
        if self._collection_of(Chunk.id, chunk_id) not in self._roles():
            raise NotFound(f"There is no passage with id {chunk_id}", code="no_passage", id=chunk_id)
        return self._kb.chunk_text(chunk_id)

    def add_files(self, files: Sequence[str | Path | tuple[str | Path, str]], collection: str, **options):
        """Add files to ``collection``; a new name becomes a collection the writer owns."""
        name = " ".join(str(collection or "").split()) or self.default_collection
        if name not in self._roles():
            self.create_collection(name)
        self._need(name, "write")
        return self._kb.add_files(files, name, **options)

    # --- search and upkeep ------------------------------------------------------------------

    def search(self, query: str, k: int = 5, collections: Sequence[str] | None = None, **options):
        visible = self._roles()
        if isinstance(collections, str):
            collections = [collections]
        wanted = list(collections) if collections else list(visible)
        hidden = [c for c in wanted if c not in visible]
        if hidden:
            raise InvalidQuery(f"Unknown collection: {', '.join(map(repr, hidden))}")
        return self._kb.search(query, k=k, collections=wanted, **options)

    def reindex(self, **options) -> int:
        return self._kb.reindex(**options)

    def stats(self) -> dict:
        return self._kb.stats()
