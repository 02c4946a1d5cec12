"""The schema comes from versioned migrations, applied once each, on SQLite and PostgreSQL."""

import sqlalchemy as sa

from knowledge.db import make_engine
from knowledge.migrations import KNOWLEDGE_MIGRATIONS, Migration, apply_migrations


def test_migrations_apply_once_and_record_themselves(database_url):
    engine = make_engine(database_url)
    assert apply_migrations(engine, KNOWLEDGE_MIGRATIONS) == [m.name for m in KNOWLEDGE_MIGRATIONS]
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


def test_collection_owners_migration_keeps_every_document_and_moves_grants(database_url):
    """An old studio (accounts with grants in the studio's table, collections named across the
    studio) upgrades without losing a row: SQLite rebuilds the collections table, and the
    documents that refer to it must not be cascade-deleted on the way."""
    from studio.accounts import ACCOUNT_MIGRATIONS

    engine = make_engine(database_url)
    apply_migrations(engine, KNOWLEDGE_MIGRATIONS[:1])
    apply_migrations(engine, ACCOUNT_MIGRATIONS[:1])
    with engine.connect() as conn, conn.begin():
        for sql in ("INSERT INTO users (id, name, password_hash, created_at) VALUES "
                    "(1, 'alice', 'x', '2026-01-01'), (2, 'bob', 'x', '2026-01-01')",
                    "INSERT INTO collections (id, name, created_at) VALUES (1, 'team', '2026-01-01'), "
                    "(2, 'alice/notes', '2026-01-01'), (3, 'essays', '2026-01-01')",
                    "INSERT INTO documents (id, collection_id, name, file_type, size_bytes, sha256, status, "
                    "chunk_count, created_at) VALUES (1, 1, 'a.md', 'md', 1, '', 'ready', 0, '2026-01-01'), "
                    "(2, 2, 'b.md', 'md', 1, '', 'ready', 0, '2026-01-01'), "
                    "(3, 3, 'c.md', 'md', 1, '', 'ready', 0, '2026-01-01')",
                    "INSERT INTO collection_access (collection_id, user_id, role) VALUES "
                    "(2, 1, 'owner'), (3, 2, 'owner'), (3, 1, 'read')"):
            conn.exec_driver_sql(sql)

    apply_migrations(engine, KNOWLEDGE_MIGRATIONS)
    apply_migrations(engine, ACCOUNT_MIGRATIONS)
    with engine.connect() as conn:
        collections = conn.exec_driver_sql(
            "SELECT id, name, owner_id, owner_name FROM collections ORDER BY id").all()
        documents = conn.exec_driver_sql("SELECT id, collection_id FROM documents ORDER BY id").all()
        shares = conn.exec_driver_sql("SELECT collection_id, user_id, role FROM collection_shares").all()
        admins = conn.exec_driver_sql("SELECT name FROM users WHERE admin").scalars().all()
    assert [tuple(r) for r in collections] == [(1, "team", 0, ""), (2, "notes", 1, "alice"), (3, "essays", 2, "bob")]
    assert [tuple(r) for r in documents] == [(1, 1), (2, 2), (3, 3)]
    assert [tuple(r) for r in shares] == [(3, 1, "read")]
    assert admins == ["alice"]  # the first user, so that someone is
    assert "collection_access" not in sa.inspect(engine).get_table_names()
    # and foreign keys still hold: deleting a collection takes its documents
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("DELETE FROM collections WHERE id = 3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM documents").scalar() == 2
