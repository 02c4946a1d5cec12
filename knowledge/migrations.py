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
    # SQLite changes a constraint only by rebuilding the table, and dropping the old table
    # with foreign keys on would cascade-delete every row that refers to it
    rebuilds_tables: bool = False


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
        with engine.connect().execution_options(write=True) as conn:
            keys_off = migration.rebuilds_tables and conn.dialect.name == "sqlite"
            if keys_off:  # outside any transaction, where SQLite honours it
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7310301)"))
                    done = conn.execute(sa.select(_LEDGER.c.name).where(
                        _LEDGER.c.name == migration.name)).first()
                    if done:
                        continue
                    migration.up(conn)
                    if keys_off and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                        raise RuntimeError(f"{migration.name} would break a foreign key")
                    conn.execute(_LEDGER.insert().values(name=migration.name,
                                                         applied_at=datetime.now(timezone.utc)))
                    applied_now.append(migration.name)
            finally:
                if keys_off:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
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


def _collection_owners(conn: Connection) -> None:
    """Collections get an owner (an account id and name from the studio; 0 = the team) and
    names unique per owner instead of across the studio; sharing moves here from the studio's
    ``collection_access`` table, next to the queries it filters."""
    tz = sa.DateTime(timezone=True)
    tables = sa.inspect(conn).get_table_names()
    if conn.dialect.name == "sqlite":
        # the 12-step table rebuild of https://www.sqlite.org/lang_altertable.html (foreign
        # keys are off for this migration: see Migration.rebuilds_tables)
        meta = sa.MetaData()
        new = sa.Table("collections_new", meta,
                       sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("name", sa.String(200), nullable=False),
                       sa.Column("created_at", tz, nullable=False),
                       sa.Column("owner_id", sa.Integer, nullable=False, server_default="0"),
                       sa.Column("owner_name", sa.String(100), nullable=False, server_default=""),
                       sa.UniqueConstraint("owner_id", "name"))
        new.create(conn)
        conn.exec_driver_sql("INSERT INTO collections_new (id, name, created_at) "
                             "SELECT id, name, created_at FROM collections")
        conn.exec_driver_sql("DROP TABLE collections")
        conn.exec_driver_sql("ALTER TABLE collections_new RENAME TO collections")
    else:
        for unique in sa.inspect(conn).get_unique_constraints("collections"):
            if unique["column_names"] == ["name"]:
                conn.exec_driver_sql(f'ALTER TABLE collections DROP CONSTRAINT "{unique["name"]}"')
        conn.exec_driver_sql("ALTER TABLE collections ADD COLUMN owner_id INTEGER NOT NULL DEFAULT 0")
        conn.exec_driver_sql("ALTER TABLE collections ADD COLUMN owner_name VARCHAR(100) NOT NULL DEFAULT ''")
        conn.exec_driver_sql("ALTER TABLE collections ADD CONSTRAINT collections_owner_name_key "
                             "UNIQUE (owner_id, name)")
    meta = sa.MetaData()
    shares = sa.Table("collection_shares", meta,
                      sa.Column("collection_id", sa.Integer,
                                sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
                      sa.Column("user_id", sa.Integer, primary_key=True, index=True),
                      sa.Column("role", sa.String(8), nullable=False))
    sa.Table("collections", meta, autoload_with=conn)
    shares.create(conn)

    if "collection_access" in tables and "users" in tables:  # the studio's grants until now
        grants = conn.execute(sa.text(
            "SELECT a.collection_id, a.user_id, a.role, u.name, c.name FROM collection_access a "
            "JOIN users u ON u.id = a.user_id JOIN collections c ON c.id = a.collection_id")).all()
        for collection_id, user_id, role, user, name in grants:
            if role != "owner":
                conn.execute(shares.insert().values(collection_id=collection_id, user_id=user_id, role=role))
                continue
            # "alice/notes", alice's default collection until now, becomes her "notes"
            own = name[len(user) + 1:] if name.startswith(f"{user}/") else name
            taken = conn.execute(sa.text("SELECT 1 FROM collections WHERE owner_id = :o AND name = :n"),
                                 {"o": user_id, "n": own}).first()
            conn.execute(sa.text("UPDATE collections SET owner_id = :o, owner_name = :u, name = :n "
                                 "WHERE id = :c"),
                         {"o": user_id, "u": user, "n": name if taken else own, "c": collection_id})


KNOWLEDGE_MIGRATIONS = [
    Migration("knowledge-0001-initial", _initial),
    Migration("knowledge-0002-collection-owners", _collection_owners, rebuilds_tables=True),
]
