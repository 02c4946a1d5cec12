"""Crash safety: a studio process is killed (SIGKILL) at many points while it ingests files
(parsing, embedding, the SQL transaction, saving the FAISS file) or records drafts; after each
kill the data is opened again and checked. Every document the studio reported as added is
there in full and searchable, no half-written document remains, FAISS and SQL agree, and every
reported draft is in history whole."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge import KnowledgeBase
from knowledge.schema import Chunk, Document

WORKER = Path(__file__).with_name("crash_worker.py")
# After the n-th report, wait this long, then kill: lands in different stages of the next file.
KILL_AFTER_S = [0.0, 0.05, 0.15, 0.4]


def note(i: int) -> str:
    paragraphs = [f"Field note {i}: the marker word is zq{i:03d}x for this file."]
    paragraphs += [f"Paragraph {p} of note {i} describes herons, tides and reed beds at some "
                   f"length so that the file makes several chunks. " * 6 for p in range(8)]
    return "\n\n".join(paragraphs)


def run_and_kill(args, reports_before_kill: int, delay: float) -> list[str]:
    """Start the worker, let it report ``reports_before_kill`` results, wait ``delay``, kill it;
    returns every line it printed (those printed before the kill are what a writer saw)."""
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], stdout=subprocess.PIPE,
                               text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    lines = []
    try:
        for line in process.stdout:
            lines.append(line.strip())
            if line.strip() == "finished" or sum(l != "ready" for l in lines) > reports_before_kill:
                break
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        lines += [line.strip() for line in process.stdout]
    finally:
        process.kill()
        process.wait()
    assert lines and lines[0] == "ready", lines
    return lines


def check_consistent(kb_settings, embedder, reported: set[str]) -> None:
    kb = KnowledgeBase.open(kb_settings, embedder=embedder)
    try:
        documents = kb.documents()
        ready = {d.name: d for d in documents if d.status == "ready"}
        assert reported <= set(ready), f"reported but missing: {reported - set(ready)}"
        assert len(ready) == len([d for d in documents if d.status == "ready"]), "a file went in twice"
        assert all(d.status == "ready" for d in documents), [d for d in documents if d.status != "ready"]
        with kb.engine.connect() as conn:
            per_doc = dict(conn.execute(sa.select(Chunk.document_id, sa.func.count())
                                        .group_by(Chunk.document_id)).all())
            sql_ids = set(conn.execute(sa.select(Chunk.id)).scalars())
            fts_rows = conn.execute(sa.text("SELECT count(*) FROM chunk_fts")).scalar()
            orphans = conn.execute(sa.select(sa.func.count()).select_from(Chunk).where(
                ~Chunk.document_id.in_(sa.select(Document.id)))).scalar()
        for d in ready.values():  # whole documents only
            assert d.chunks > 0 and per_doc.get(d.id) == d.chunks, d
        assert orphans == 0 and fts_rows == len(sql_ids)
        assert set(kb.index().ids().tolist()) == sql_ids  # FAISS agrees with SQL (repaired on open)
        for name, d in ready.items():  # and each is found by its own words
            marker = f"zq{int(name[5:8]):03d}x"
            assert kb.search(marker, k=1, mode="lexical")[0].document_id == d.id
    finally:
        kb.close()


@pytest.mark.slow
def test_killed_while_ingesting_loses_nothing_reported_and_leaves_nothing_half_done(
        kb_settings, embedder, make_file):
    files = [make_file(f"note-{i:03d}.md", note(i)) for i in range(30)]
    url = kb_settings.url
    reported: set[str] = set()
    for round_number, delay in enumerate(KILL_AFTER_S):
        remaining = [f for f in files if f.name not in reported]
        lines = run_and_kill(["ingest", kb_settings.data_dir, url, *remaining], round_number % 3, delay)
        reported |= {l.split(" ", 1)[1] for l in lines if l.split(" ")[0] in ("added", "duplicate")}
        assert "finished" not in lines  # killed while it worked
        check_consistent(kb_settings, embedder, reported)
    assert len(reported) >= len(KILL_AFTER_S)  # the kills did not all land before the first file


@pytest.mark.slow
def test_killed_while_recording_drafts_keeps_every_reported_draft_whole(kb_settings, embedder):
    from studio.history import GENERATIONS, History

    recorded: set[int] = set()
    for round_number, delay in enumerate(KILL_AFTER_S[:3]):
        lines = run_and_kill(["write", kb_settings.data_dir, kb_settings.url],
                             round_number, delay)
        recorded |= {int(l.split()[1]) for l in lines if l.startswith("recorded ")}
        kb = KnowledgeBase.open(kb_settings, embedder=embedder)
        history = History(kb.engine)
        stored = {r.id: r for r in history.list(limit=10_000)}
        assert recorded <= set(stored)
        for record in stored.values():  # every row is a whole record, whatever was reported
            assert record.status == "done" and record.messages and record.settings["seed"] == record.seed
        with kb.engine.connect() as conn:
            for column in ("request", "passages", "messages", "settings", "timings"):
                for value in conn.execute(sa.select(GENERATIONS.c[column])).scalars():
                    json.loads(value)
        kb.close()
    assert recorded
