"""Shared fixtures: every test gets its own data folder, no network, and (where it asks for a
database) each database the suite runs against: SQLite always, PostgreSQL when
``INKSTONE_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one; CI fails without it).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from knowledge.embedding import Embedder
from knowledge.settings import KnowledgeSettings

POSTGRES_URL = os.environ.get("INKSTONE_TEST_POSTGRES_URL", "")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("INKSTONE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.delenv("INKSTONE_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    return Embedder()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind the suite runs against."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'inkstone.db'}"
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: set INKSTONE_TEST_POSTGRES_URL (.ci/run does)")
        pytest.skip("no PostgreSQL server: set INKSTONE_TEST_POSTGRES_URL to run these")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def kb_settings(tmp_path, database_url) -> KnowledgeSettings:
    return KnowledgeSettings(data_dir=tmp_path / "data", database_url=database_url,
                             parse_timeout_s=60)


@pytest.fixture
def kb(kb_settings, embedder):
    from knowledge.base import KnowledgeBase

    base = KnowledgeBase.open(kb_settings, embedder=embedder)
    yield base
    base.close()


@pytest.fixture
def make_file(tmp_path):
    """Write a file into a fresh folder and return its path: make_file("a.txt", b"...")."""
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)

    def write(name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
        path = folder / name
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        return path

    return write
