"""Generation history and provenance in SQL: every draft (and later every image) with what made it.

A record holds the request, the brief, the passages (ids and a snapshot of their text), the
exact messages sent to the model, model id and backend, sampling settings and seed, the output,
timings, and the record it revised, so versions form a chain that can be listed and diffed, and
a record can be re-run to reproduce its output.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from typing import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from knowledge import Migration, NotFound, Owner, Passage, apply_migrations
from knowledge.db import could_be_id
from studio.understanding import Brief

_META = sa.MetaData()
GENERATIONS = sa.Table(
    "generations", _META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "text" | "image"
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("generations.id", ondelete="SET NULL")),
    sa.Column("status", sa.String(16), nullable=False),  # "done" | "cancelled" | "failed"
    sa.Column("action", sa.String(32), nullable=False),  # "write", "rewrite", "continue", ...
    sa.Column("request", sa.Text, nullable=False),  # JSON
    sa.Column("brief", sa.Text, nullable=False),  # JSON
    sa.Column("passages", sa.Text, nullable=False),  # JSON list of passage snapshots
    sa.Column("messages", sa.Text, nullable=False),  # JSON: exactly what the model saw
    sa.Column("model_id", sa.Text, nullable=False),
    sa.Column("backend", sa.String(32), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON sampling settings, seed included
    sa.Column("seed", sa.BigInteger),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("cited", sa.Text, nullable=False),  # JSON list of cited passage numbers
    sa.Column("timings", sa.Text, nullable=False),  # JSON stage -> seconds
    sa.Column("error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # the writer who made it when accounts are on (studio-0002); NULL otherwise
    sa.Column("owner", sa.String(100)),
    # JSON, text drafts since studio-0003: how the draft was made (strategy, the model's short
    # edits) and what the sentence check found (per-sentence findings, framing lines, flags)
    sa.Column("checks", sa.Text),
    # the writer's account id (studio-0004): a removed and re-created name is a new account
    sa.Column("owner_id", sa.Integer),
)
_ADDED_LATER = {"owner", "checks", "owner_id"}


def _create_history(conn: Connection) -> None:
    # The table as this migration shipped it: GENERATIONS without the columns later
    # migrations add (a migration that changes a column must copy its old form in here).
    meta = sa.MetaData()
    sa.Table("generations", meta, *[c._copy() for c in GENERATIONS.columns if c.name not in _ADDED_LATER])
    meta.create_all(conn)
    conn.execute(sa.text("CREATE INDEX ix_generations_parent ON generations (parent_id)"))
    conn.execute(sa.text("CREATE INDEX ix_generations_created ON generations (created_at)"))


def _add_owner(conn: Connection) -> None:
    conn.execute(sa.text("ALTER TABLE generations ADD COLUMN owner VARCHAR(100)"))
    conn.execute(sa.text("CREATE INDEX ix_generations_owner ON generations (owner)"))


def _add_checks(conn: Connection) -> None:
    conn.execute(sa.text("ALTER TABLE generations ADD COLUMN checks TEXT"))


def _add_owner_id(conn: Connection) -> None:
    conn.execute(sa.text("ALTER TABLE generations ADD COLUMN owner_id INTEGER"))
    conn.execute(sa.text("CREATE INDEX ix_generations_owner_id ON generations (owner_id)"))
    if "users" in sa.inspect(conn).get_table_names():
        conn.execute(sa.text("UPDATE generations SET owner_id = "
                             "(SELECT id FROM users WHERE users.name = generations.owner)"))


STUDIO_MIGRATIONS = [Migration("studio-0001-history", _create_history),
                     Migration("studio-0002-generation-owner", _add_owner),
                     Migration("studio-0003-generation-checks", _add_checks),
                     Migration("studio-0004-generation-owner-id", _add_owner_id)]


@dataclass(frozen=True)
class GenerationRecord:
    id: int
    kind: str
    parent_id: int | None
    status: str
    action: str
    request: dict
    brief: Brief | None  # None for an image
    passages: list[Passage]  # numbered from 1 in the draft's [n]
    messages: list[dict]
    model_id: str
    backend: str
    settings: dict
    seed: int | None
    output: str
    cited: list[int]
    timings: dict
    error: str | None
    created_at: datetime
    checks: dict | None = None  # strategy, edits, per-sentence findings, framing, flags


class History:
    """Reads and writes generation records. Build with the studio's engine.

    With an owner (see :meth:`for_owner`) records are written as that writer's and only
    their records can be read; another writer's id reads as not found.
    """

    def __init__(self, engine: Engine, *, migrate: bool = True):
        self.engine = engine
        self.owner_id: int | None = None
        self.owner: str | None = None
        if migrate:
            apply_migrations(engine, STUDIO_MIGRATIONS)

    def for_owner(self, owner_id: int, name: str = "") -> "History":
        """The history of the account ``owner_id`` (``name`` is kept beside it for reading)."""
        scoped = History(self.engine, migrate=False)
        scoped.owner_id, scoped.owner = owner_id, name or None
        return scoped

    def forget_owner(self, owner_id: int, *, give_to: Owner | None = None) -> None:
        """An account goes: its records go to the writer ``give_to`` or are deleted."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            mine = GENERATIONS.c.owner_id == owner_id
            if give_to is not None:
                conn.execute(GENERATIONS.update().where(mine).values(owner_id=give_to.id, owner=give_to.name))
                return
            ids = sa.select(GENERATIONS.c.id).where(mine)
            conn.execute(GENERATIONS.update().where(GENERATIONS.c.parent_id.in_(ids)).values(parent_id=None))
            conn.execute(GENERATIONS.delete().where(mine))

    def _mine(self, query):
        return query if self.owner_id is None else query.where(GENERATIONS.c.owner_id == self.owner_id)

    def record(self, *, kind: str, action: str, status: str, request: dict, brief: Brief | None,
               passages: Sequence[Passage], messages: list[dict], model_id: str, backend: str,
               settings: dict, seed: int | None, output: str, cited: list[int], timings: dict,
               parent_id: int | None = None, error: str | None = None,
               checks: dict | None = None) -> int:
        """Store one generation in one transaction; returns its id."""
        values = dict(kind=kind, action=action, status=status, parent_id=parent_id,
                      request=json.dumps(request, ensure_ascii=False),
                      brief=json.dumps(asdict(brief) if brief else {}, ensure_ascii=False),
                      passages=json.dumps([passage_snapshot(n, p) for n, p in enumerate(passages, 1)],
                                          ensure_ascii=False),
                      messages=json.dumps(messages, ensure_ascii=False), model_id=model_id,
                      backend=backend, settings=json.dumps(settings), seed=seed, output=output,
                      cited=json.dumps(cited), timings=json.dumps(timings), error=error,
                      created_at=datetime.now(timezone.utc), owner=self.owner, owner_id=self.owner_id,
                      checks=None if checks is None else json.dumps(checks, ensure_ascii=False))
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            return conn.execute(GENERATIONS.insert().values(**values)
                                .returning(GENERATIONS.c.id)).scalar_one()

    def get(self, generation_id: int) -> GenerationRecord:
        row = None
        if could_be_id(generation_id):
            with self.engine.connect() as conn:
                row = conn.execute(self._mine(GENERATIONS.select().where(GENERATIONS.c.id == generation_id))).first()
        if row is None:
            raise NotFound(f"There is no generation with id {generation_id}")
        return _record(row)

    def find_output(self, file_name: str, *, kind: str = "image") -> GenerationRecord | None:
        """The record whose output is a file called ``file_name`` (an image's PNG), if it is
        this owner's."""
        query = self._mine(GENERATIONS.select().where(GENERATIONS.c.kind == kind,
                                                      GENERATIONS.c.output.endswith(f"/{file_name}")))
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        return _record(row) if row else None

    def list(self, *, kind: str | None = None, limit: int = 100) -> list[GenerationRecord]:
        """Newest first."""
        query = self._mine(GENERATIONS.select().order_by(GENERATIONS.c.id.desc()).limit(limit))
        if kind:
            query = query.where(GENERATIONS.c.kind == kind)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def count(self, *, kind: str | None = None, since: datetime | None = None) -> int:
        """How many generations (of ``kind``, made at or after ``since``) there are."""
        query = self._mine(sa.select(sa.func.count(GENERATIONS.c.id)))
        if kind:
            query = query.where(GENERATIONS.c.kind == kind)
        if since is not None:
            query = query.where(GENERATIONS.c.created_at >= since)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def chain(self, generation_id: int) -> list[GenerationRecord]:
        """The versions leading to ``generation_id``, oldest first (the first draft, its
        revisions, ..., this one)."""
        versions = [self.get(generation_id)]
        seen = {generation_id}
        while versions[0].parent_id is not None and versions[0].parent_id not in seen:
            seen.add(versions[0].parent_id)
            try:
                versions.insert(0, self.get(versions[0].parent_id))
            except NotFound:
                break
        return versions

    def diff(self, old_id: int, new_id: int) -> str:
        """A unified diff of two generations' outputs, line by line."""
        old, new = self.get(old_id), self.get(new_id)
        # lines without their ends: a last line with no newline would otherwise run into
        # the next line of the diff ("-old last line+new last line")
        lines = difflib.unified_diff(old.output.splitlines(), new.output.splitlines(),
                                     fromfile=f"version {old_id}", tofile=f"version {new_id}", lineterm="")
        return "".join(line + "\n" for line in lines)

    def delete(self, generation_id: int) -> None:
        self.get(generation_id)  # someone else's reads as not found
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            # revisions of a deleted draft keep their text; they just lose their parent link
            conn.execute(GENERATIONS.update().where(GENERATIONS.c.parent_id == generation_id)
                         .values(parent_id=None))
            deleted = conn.execute(GENERATIONS.delete().where(GENERATIONS.c.id == generation_id)).rowcount
        if not deleted:
            raise NotFound(f"There is no generation with id {generation_id}")


def passage_snapshot(number: int, p: Passage) -> dict:
    """A passage as a record stores it (and the draft view shows it)."""
    return {"n": number, "chunk_id": p.chunk_id, "document_id": p.document_id,
            "document": p.document_name, "title": p.document_title, "collection": p.collection,
            "page": p.page, "char_start": p.char_start, "char_end": p.char_end,
            "headings": p.headings, "score": p.score, "text": p.text}


def passage_from_snapshot(s: dict) -> Passage:
    return Passage(chunk_id=s["chunk_id"], document_id=s["document_id"], document_name=s["document"],
                   document_title=s["title"], collection=s["collection"], text=s["text"],
                   page=s["page"], char_start=s["char_start"], char_end=s["char_end"],
                   headings=s["headings"], score=s["score"])


def brief_from_snapshot(s: dict) -> Brief | None:
    if not s:
        return None
    known = {k: v for k, v in s.items() if k in Brief.__dataclass_fields__}
    return Brief(**{**known, "keywords": tuple(s.get("keywords", ())),
                    "constraints": tuple(s.get("constraints", ()))})


def _record(row) -> GenerationRecord:
    return GenerationRecord(
        id=row.id, kind=row.kind, parent_id=row.parent_id, status=row.status, action=row.action,
        request=json.loads(row.request), brief=brief_from_snapshot(json.loads(row.brief)),
        passages=[passage_from_snapshot(s) for s in json.loads(row.passages)], messages=json.loads(row.messages),
        model_id=row.model_id, backend=row.backend, settings=json.loads(row.settings),
        seed=row.seed, output=row.output, cited=json.loads(row.cited),
        timings=json.loads(row.timings), error=row.error, created_at=row.created_at,
        checks=json.loads(row.checks) if row.checks else None)
