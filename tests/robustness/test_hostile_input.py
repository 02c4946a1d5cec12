"""Hostile input: each file or request gets a clear, named refusal or a safe result, within the
parser's time and memory bound, nothing lands outside the data folder, and the studio keeps
working afterwards. (How the page renders hostile text is in test_rendering_in_chromium.py.)"""

import os
import re

import pytest

from documents import zip_bomb_docx
from hostile import docx_claiming, docx_entity_bomb, pdf_circular_pages, pdf_deeply_nested, pdf_flate_bomb
from knowledge import KnowledgeBase, KnowledgeSettings
from tests.api_client import api_client

HOSTILE_FILES = [
    # name, content, what the report must say
    ("bomb.docx", lambda: zip_bomb_docx(600), "decompression bomb"),
    ("claims-1gb.docx", docx_claiming, "decompression bomb"),
    ("flate-bomb.pdf", pdf_flate_bomb, "memory|too long|crashed"),
    ("circular.pdf", pdf_circular_pages, "damaged|no text"),
    ("nested.pdf", pdf_deeply_nested, "damaged|no text|nested"),
    ("laughs.docx", docx_entity_bomb, "damaged"),
    ("photo.md", lambda: b"\x89PNG\r\n\x1a\n" + os.urandom(4000), "is a PNG image, not text"),
    ("noise.txt", lambda: bytes(range(256)) * 40, "binary file, not text"),
    ("report.pdf", lambda: b"PK\x03\x04" + os.urandom(500), "damaged or not a PDF"),
    ("letter.docx", lambda: b"<html><body>Dear writer</body></html>", "not a ZIP archive"),
    ("notes.txt", lambda: b"%PDF-1.4\n%%EOF", "is a PDF file with a .txt name"),
    ("empty.pdf", lambda: b"", "empty"),
    ("empty.docx", lambda: b"", "empty"),
    ("empty.md", lambda: b"", "empty"),
]


@pytest.fixture
def bounded_kb(tmp_path, embedder):
    """A knowledge base with tight parser bounds, so hostile files hit them quickly."""
    kb = KnowledgeBase.open(KnowledgeSettings(data_dir=tmp_path / "data", parse_timeout_s=30,
                                              parse_memory_mb=256, max_upload_mb=20),
                            embedder=embedder)
    yield kb
    kb.close()


@pytest.mark.slow
def test_hostile_files_are_refused_by_name_and_the_rest_of_the_batch_goes_in(bounded_kb, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    paths = []
    for name, build, _ in HOSTILE_FILES:
        (folder / name).write_bytes(build())
        paths.append(folder / name)
    sparse = folder / "claims-1gb.txt"  # 1 GB by its size, nothing on disk: must not be read
    with open(sparse, "wb") as handle:
        handle.truncate(2**30)
    good = folder / "herons.md"
    good.write_text("# Herons\n\nGrey herons hunt fish in shallow water at dawn.")

    outcomes = {o.name: o for o in bounded_kb.add_files([*paths, sparse, good])}
    for name, _, reason in HOSTILE_FILES:
        assert outcomes[name].status == "failed", outcomes[name]
        assert outcomes[name].message.startswith(f"{name}: ")  # reported by name
        assert re.search(reason, outcomes[name].reason), outcomes[name].reason
    assert outcomes["claims-1gb.txt"].status == "failed" and "over the 20 MB limit" in outcomes["claims-1gb.txt"].reason
    assert outcomes["herons.md"].status == "added"
    assert bounded_kb.search("herons hunting", k=1)[0].document_name == "herons.md"


@pytest.mark.parametrize("given, shown", [
    ("../../outside.md", "outside.md"),
    ("..\\..\\windows.md", "windows.md"),
    ("nul\x00byte.md", "nulbyte.md"),
    ("caf\udce9.md", "caf.md"),  # a non-UTF-8 byte, as os.fsdecode hands it over
    ("x" * 400 + ".md", "x" * 252 + ".md"),
    ("<img src=x onerror=alert(1)>.md", "<img src=x onerror=alert(1)>.md"),  # kept; escaped on display
])
def test_hostile_file_names_are_cleaned_and_nothing_escapes_the_data_folder(bounded_kb, tmp_path, given, shown):
    source = tmp_path / "upload.md"
    source.write_text("Herons nest in colonies called heronries.")
    before = {p for p in tmp_path.parent.rglob("*")}
    outcome = bounded_kb.add_files([(source, given)])[0]
    assert outcome.status == "added" and outcome.name == shown
    assert bounded_kb.documents()[0].name == shown
    created = {p for p in tmp_path.parent.rglob("*")} - before
    assert all(tmp_path / "data" in p.parents for p in created), created


def test_html_scripts_and_handlers_never_reach_the_stored_text(bounded_kb, tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<html><head><script>steal(document.cookie)</script></head><body>'
                    '<p onclick="steal()">Herons <b onmouseover="x()">wade</b> slowly.</p>'
                    '<img src=x onerror="steal()"><iframe src="javascript:steal()"></iframe>'
                    '<style>p{}</style></body></html>')
    assert bounded_kb.add_files([page])[0].status == "added"
    stored = bounded_kb.document_text(bounded_kb.documents()[0].id)
    assert "Herons wade slowly." in stored
    assert not any(bad in stored for bad in ("steal", "onclick", "onerror", "<", "javascript"))


@pytest.mark.slow
def test_the_parser_bound_holds_in_a_separate_process_and_the_studio_stays_up(bounded_kb, tmp_path):
    # a bomb costs one parser child; the studio's own memory does not grow by its size
    import resource

    bomb = tmp_path / "flate-bomb.pdf"
    bomb.write_bytes(pdf_flate_bomb(1500))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert bounded_kb.add_files([bomb])[0].status == "failed"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 500, f"the studio process itself grew by {grown_mb:.0f} MB"
    good = tmp_path / "after.md"
    good.write_text("Egrets are smaller than herons.")
    assert bounded_kb.add_files([good])[0].status == "added"


# Sliders and dropdowns are checked by Gradio against their bounds before a handler runs; the
# rest by the studio. Either way the caller reads what was wrong.
@pytest.mark.parametrize("call, message", [
    (lambda c: c.predict("x" * 50_000, "", "", "", [], 16, 0.7, "1", "", api_name="/write"), "50000 characters long; the limit is 8000"),
    (lambda c: c.predict("Write", "", "", "", [], 10**9, 0.7, "1", "", api_name="/write"), "greater than maximum value 1024"),
    (lambda c: c.predict("Write", "", "", "", [], 16, 99, "1", "", api_name="/write"), "greater than maximum value 1.5"),
    (lambda c: c.predict("Write", "", "", "", [], 16, 0.7, "seven", "", api_name="/write"), "whole number"),
    (lambda c: c.predict("Write", "", "", "", [], 16, 0.7, str(2**40), "", api_name="/write"), "Seed. must be between 0 and"),
    (lambda c: c.predict("Write", "sonnet", "", "", [], 16, 0.7, "1", "", api_name="/write"), "sonnet is not in the list of choices"),
    (lambda c: c.predict("herons", 10**6, "", api_name="/search"), "greater than maximum value 20"),
    (lambda c: c.predict("a heron", "", 2, 0, 10**5, 64, "1", 1, "", None, 0.6, None, api_name="/illustrate"), "greater than maximum value 1024"),
    (lambda c: c.predict("a heron", "", 10**4, 0, 64, 64, "1", 1, "", None, 0.6, None, api_name="/illustrate"), "greater than maximum value 100"),
    (lambda c: c.predict("a heron", "", 2, 0, 64, 64, "1", 10**3, "", None, 0.6, None, api_name="/illustrate"), "greater than maximum value 4"),
    (lambda c: c.predict(-5, api_name="/open_generation"), "no generation"),
    (lambda c: c.predict(10**12, "rewrite", "", 16, 0.7, api_name="/revise"), "no generation"),
])
def test_requests_out_of_range_get_a_clear_message_and_the_studio_stays_up(served_studio, call, message):
    from gradio_client.exceptions import AppError

    client = api_client(served_studio[0])
    with pytest.raises(AppError, match=message):
        call(client)
    assert client.predict(api_name="/system_status")[0]["database"]  # still answering
