"""Database engines: SQLite (default) tuned for a studio, or any SQLAlchemy URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for SQLite, create the folder and set the pragmas.

    SQLite runs in WAL mode with ``synchronous=NORMAL``: a killed studio never corrupts the
    database or loses a committed transaction; a power cut may roll back the last few
    commits, which the index check on the next start repairs against.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so DDL and
        # DML in one migration or one document commit or roll back together.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Writers take the write lock up front (BEGIN IMMEDIATE) so two writers queue on the
        # busy timeout instead of deadlocking when both upgrade from a read.
        mode = "IMMEDIATE" if connection.get_execution_options().get("write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def could_be_id(value: int) -> bool:
    """Whether ``value`` can name a row. Ids are SQL INTEGER, 32 bits on PostgreSQL, which
    refuses to compare one with a larger number (SQLite just finds nothing); callers report
    such a value as not found instead of asking."""
    return 0 < value < 2**31


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and the System tab."""
    return make_url(url).render_as_string(hide_password=True)
