"""`python -m knowledge` end to end, as a writer or a script would run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(data_dir, *args):
    env = {**os.environ, "INKSTONE_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "knowledge", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_add_search_list_remove_reindex(tmp_path, make_file):
    data = tmp_path / "kb"
    good = make_file("harbour.md", "# Harbour\n\nFishing boats leave the harbour before dawn.")
    zh = make_file("港口.txt", "渔船在黎明前离开港口，傍晚满载而归。".encode("gbk"))
    bad = make_file("broken.pdf", b"%PDF-1.4 this is not a pdf")

    added = run(data, "add", str(good), str(zh), str(bad), "--collection", "notes")
    assert added.returncode == 1, added.stderr  # one file failed
    lines = added.stdout.splitlines()
    assert lines[0].startswith("added") and "harbour.md" in lines[0]
    assert lines[1].startswith("added") and "港口.txt" in lines[1]
    assert lines[2].startswith("failed") and "broken.pdf" in lines[2] and "damaged" in lines[2]
    assert "Traceback" not in added.stderr

    again = run(data, "add", str(good), "--collection", "notes")
    assert again.returncode == 0 and again.stdout.startswith("duplicate")

    found = run(data, "search", "boats at dawn", "-k", "1")
    assert found.returncode == 0 and "harbour.md" in found.stdout
    assert "港口.txt" in run(data, "search", "渔船", "-k", "1").stdout

    listing = run(data, "list")
    doc_id = next(line.split()[0] for line in listing.stdout.splitlines() if "harbour.md" in line)
    assert "failed" in next(line for line in listing.stdout.splitlines() if "broken.pdf" in line)

    assert run(data, "remove", doc_id).returncode == 0
    assert "harbour.md" not in run(data, "search", "boats at dawn", "-k", "3").stdout
    missing = run(data, "remove", doc_id)
    assert missing.returncode == 2 and "no document" in missing.stderr

    (data / "index" / "chunks-auto.faiss").unlink()
    reindexed = run(data, "reindex")
    assert reindexed.returncode == 0 and "indexed 1 chunks" in reindexed.stdout


def test_empty_query_is_a_clear_error(tmp_path):
    result = run(tmp_path / "kb", "search", "  ")
    assert result.returncode == 2
    assert "query is empty" in result.stderr and "Traceback" not in result.stderr
