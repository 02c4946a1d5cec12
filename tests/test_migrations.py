"""The schema comes from versioned migrations, applied once each, on SQLite and PostgreSQL."""

import sqlalchemy as sa

from knowledge.db import make_engine
from knowledge.migrations import KNOWLEDGE_MIGRATIONS, Migration, apply_migrations


def test_migrations_apply_once_and_record_themselves(database_url):
    engine = make_engine(database_url)
    assert apply_migrations(engine, KNOWLEDGE_MIGRATIONS) == ["knowledge-0001-initial"]
    assert apply_migrations(engine, KNOWLEDGE_MIGRATIONS) == []
    tables = set(sa.inspect(engine).get_table_names())
    assert {"collections", "documents", "chunks", "kb_state", "chunk_fts", "schema_migrations"} <= tables


def test_a_failing_migration_rolls_back_whole_and_stays_pending(database_url):
    engine = make_engine(database_url)
    apply_migrations(engine, KNOWLEDGE_MIGRATIONS)

    def broken(conn):
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        raise RuntimeError("bug in migration")

    try:
        apply_migrations(engine, [*KNOWLEDGE_MIGRATIONS, Migration("test-0002-broken", broken)])
    except RuntimeError:
        pass
    assert "half_done" not in sa.inspect(engine).get_table_names()
    fixed = Migration("test-0002-broken", lambda conn: conn.exec_driver_sql(
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY)"))
    assert apply_migrations(engine, [*KNOWLEDGE_MIGRATIONS, fixed]) == ["test-0002-broken"]
