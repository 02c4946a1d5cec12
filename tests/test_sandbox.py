"""A file that hangs or balloons its parser is cut off and reported; the batch goes on."""

import pytest

from knowledge.base import KnowledgeBase
from knowledge.errors import UnreadableFile
from knowledge.sandbox import read_document_bounded
from knowledge.settings import KnowledgeSettings
from tests.documents import pdf_bytes, zip_bomb_docx


def test_parser_over_the_memory_bound_is_stopped():
    # One bound, two files: a page parses under it, and a page of 20,000 paragraphs (about 80 MB
    # of parse tree from 900 KB) is stopped by it, so the refusal comes from the bound.
    def page(paragraphs):
        return ("<html><body>" + "<p>A paragraph of <b>ordinary</b> text.</p>" * paragraphs).encode()

    assert read_document_bounded(page(1), "page.html", timeout_s=60, memory_mb=32).blocks
    with pytest.raises(UnreadableFile, match="memory") as stopped:
        read_document_bounded(page(20_000), "big.html", timeout_s=60, memory_mb=32)
    assert stopped.value.code == "file_too_complex"


def test_parser_over_the_time_bound_is_stopped():
    # The same readable file, under two bounds: the refusal comes from the bound, not from the
    # file (a reader that failed on it would fail under both), and it names the bound.
    data = pdf_bytes(["A page of ordinary text."] * 200)
    assert len(read_document_bounded(data, "long.pdf", timeout_s=120, memory_mb=1024).blocks) == 200
    with pytest.raises(UnreadableFile, match="took longer than 0.001 s and was stopped") as stopped:
        read_document_bounded(data, "long.pdf", timeout_s=0.001, memory_mb=1024)
    assert (stopped.value.code, stopped.value.params["seconds"]) == ("file_timeout", 0.001)


def test_bounded_parse_returns_the_document():
    doc = read_document_bounded(pdf_bytes(["Hello sandbox."]), "ok.pdf", timeout_s=60, memory_mb=1024)
    assert doc.blocks[0].text.strip() == "Hello sandbox."


def test_docx_zip_bomb_is_refused_and_the_batch_continues(tmp_path, embedder, make_file):
    kb = KnowledgeBase.open(KnowledgeSettings(data_dir=tmp_path / "kb"), embedder=embedder)
    bomb = make_file("bomb.docx", zip_bomb_docx(600))
    good = make_file("good.txt", "Still here after the bomb.")
    outcomes = kb.add_files([bomb, good])
    assert outcomes[0].status == "failed" and "decompression bomb" in outcomes[0].message
    assert outcomes[1].status == "added"
