"""Versioned schema migrations: an ordered list, applied once each, recorded in SQL.

Each migration is frozen once it has shipped: it spells out its own tables instead of reading
the current models, so a new database and an old one upgraded step by step end up identical.
To change the schema, append a migration. :mod:`studio` appends its own list (history tables)
through the same :func:`apply_migrations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import sqlalchemy as sa
from sqlalchemy import Connection, Engine


@dataclass(frozen=True)
class Migration:
    name: str  # unique and stable, e.g. "knowledge-0001-initial"
    up: Callable[[Connection], None]


_LEDGER = sa.Table(
    "schema_migrations", sa.MetaData(),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def apply_migrations(engine: Engine, migrations: list[Migration]) -> list[str]:
    """Apply the migrations not yet recorded, in order, each in its own transaction.

    Returns the names applied now. Safe to call from several processes at once: on
    PostgreSQL an advisory lock serialises them; SQLite's write lock does the same.
    """
    _LEDGER.create(engine, checkfirst=True)
    applied_now = []
    for migration in migrations:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7310301)"))
            done = conn.execute(sa.select(_LEDGER.c.name).where(
                _LEDGER.c.name == migration.name)).first()
            if done:
                continue
            migration.up(conn)
            conn.execute(_LEDGER.insert().values(name=migration.name,
                                                 applied_at=datetime.now(timezone.utc)))
            applied_now.append(migration.name)
    return applied_now


def _initial(conn: Connection) -> None:
    meta = sa.MetaData()
    tz = sa.DateTime(timezone=True)
    sa.Table("collections", meta,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String(200), nullable=False, unique=True),
             sa.Column("created_at", tz, nullable=False))
    sa.Table("documents", meta,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("collection_id", sa.Integer,
                       sa.ForeignKey("collections.id", ondelete="CASCADE"), nullable=False,
                       index=True),
             sa.Column("name", sa.String(500), nullable=False),
             sa.Column("file_type", sa.String(16), nullable=False),
             sa.Column("size_bytes", sa.Integer, nullable=False),
             sa.Column("sha256", sa.String(64), nullable=False, index=True),
             sa.Column("status", sa.String(16), nullable=False),
             sa.Column("error", sa.Text),
             sa.Column("title", sa.Text),
             sa.Column("pages", sa.Integer),
             sa.Column("chunk_count", sa.Integer, nullable=False),
             sa.Column("text", sa.Text),
             sa.Column("created_at", tz, nullable=False))
    sa.Table("chunks", meta,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("document_id", sa.Integer,
                       sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False,
                       index=True),
             sa.Column("ordinal", sa.Integer, nullable=False),
             sa.Column("text", sa.Text, nullable=False),
             sa.Column("char_start", sa.Integer, nullable=False),
             sa.Column("char_end", sa.Integer, nullable=False),
             sa.Column("page", sa.Integer),
             sa.Column("headings", sa.Text, nullable=False),
             sa.Column("token_count", sa.Integer, nullable=False),
             sa.Column("embedding", sa.LargeBinary, nullable=False))
    sa.Table("kb_state", meta,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("revision", sa.Integer, nullable=False),
             sa.Column("embedding_model", sa.Text, nullable=False),
             sa.Column("embedding_dim", sa.Integer, nullable=False))
    meta.create_all(conn)
    conn.execute(meta.tables["kb_state"].insert().values(
        id=1, revision=0, embedding_model="", embedding_dim=0))

    # The lexical index lives in the database so it commits with the chunks it indexes.
    if conn.dialect.name == "sqlite":
        # Porter stemming for English; CJK text arrives pre-split into character bigrams.
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE chunk_fts USING fts5("
            "body, tokenize='porter unicode61 remove_diacritics 2')")
    else:
        conn.exec_driver_sql(
            "CREATE TABLE chunk_fts (chunk_id INTEGER PRIMARY KEY "
            "REFERENCES chunks(id) ON DELETE CASCADE, body tsvector NOT NULL)")
        conn.exec_driver_sql("CREATE INDEX chunk_fts_body ON chunk_fts USING GIN (body)")


KNOWLEDGE_MIGRATIONS = [
    Migration("knowledge-0001-initial", _initial),
]
