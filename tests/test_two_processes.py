"""Two studio processes on one database (PostgreSQL, as a team runs it; SQLite too) see each
other's documents: SQL is the truth, and each process brings its own FAISS index up to date."""

import os
import subprocess
import sys
from pathlib import Path

from knowledge import KnowledgeBase

WORKER = Path(__file__).with_name("crash_worker.py")


def test_documents_added_by_another_process_are_found_here(kb_settings, embedder, make_file, tmp_path):
    here = KnowledgeBase.open(kb_settings, embedder=embedder)
    here.add_files([make_file("herons.md", "# Herons\n\nGrey herons hunt fish in shallow water at dawn.")])
    assert here.search("egrets nesting in the reeds", k=5, mode="dense")[0].document_name == "herons.md"

    # another process, with its own data folder (its own FAISS file), adds a document
    other = make_file("egrets.md", "# Egrets\n\nLittle egrets nest in the reeds beside the estuary.")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(WORKER), "ingest", str(tmp_path / "other-process"),
                           kb_settings.url, str(other)], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=300)
    assert "added egrets.md" in done.stdout, done.stderr[-2000:]

    # this process finds it by meaning (its FAISS index caught up from SQL) and by words
    assert here.search("egrets nesting in the reeds", k=1, mode="dense")[0].document_name == "egrets.md"
    assert here.search("estuary", k=1, mode="lexical")[0].document_name == "egrets.md"
    assert {d.name for d in here.documents()} == {"herons.md", "egrets.md"}
    here.close()
