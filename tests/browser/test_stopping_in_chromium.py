"""Stopping work from the browser (issue 14): the Images tab's Stop ends a generation between
steps and keeps what was finished; the Knowledge tab's Cancel upload keeps the files stored by
then and reports the rest as cancelled. Each is pressed once the page shows the work under way,
with far more work left than a click takes, so it lands mid-work."""

import random
import re

import pytest
from playwright.sync_api import expect

WORDS = ("heron tide marsh reed egret dawn shallow water fish wader feather nest colony estuary mudflat "
         "river bank wing beak patience strike grey silver morning evening winter summer migrate").split()


@pytest.fixture
def studio_url(served_studio):
    return served_studio[0]


def field_notes(seed: int, paragraphs: int) -> str:
    """Distinct prose (no two files alike, so none is a duplicate): about 0.5 chunks a paragraph."""
    rng = random.Random(seed)
    parts = [f"# Field notes {seed}"]
    for number in range(paragraphs):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                     for _ in range(6)]
        parts.append(f"Entry {seed}-{number}. " + " ".join(sentences))
    return "\n\n".join(parts)


def test_stop_on_the_images_tab_ends_a_generation_and_keeps_what_was_finished(page, served_studio):
    url, studio = served_studio
    page.goto(url)
    page.get_by_role("tab", name="Images").click()
    page.get_by_label("Prompt (English works best)").fill("a heron at dawn")
    # the most steps the tab allows: 4 images of 100 steps, 384 px (the first step shows at once,
    # yet the whole run is many times a click: at 128 px, 21 ms a step, the 400 steps once
    # finished under load before the click landed)
    for label, value in (("Steps", "100"), ("Images", "4"), ("Width", "384"), ("Height", "384")):
        box = page.get_by_label(f"number input for {label}")
        box.fill(value)
        box.press("Tab")
    page.get_by_role("button", name="Generate").click()
    # under way: the progress shows the steps of all four images
    expect(page.locator("body")).to_contain_text(re.compile(r"step \d+/400"), timeout=120_000)
    page.locator("#image-stop").click()
    expect(page.locator("body")).to_contain_text("Stopped: kept", timeout=120_000)
    assert "Made 4 image(s)" not in page.inner_text("body")
    kept = int(re.search(r"Stopped: kept (\d+) finished", page.inner_text("body"))[1])
    assert kept < 4
    assert page.locator("#image-results img[src*='inkstone-']").count() == kept
    recorded = studio.history.list(kind="image")
    assert len(recorded) == kept  # what was finished is recorded; nothing of the unfinished
    # the studio is free again: the next generation runs to its end
    for label, value in (("Steps", "2"), ("Images", "1"), ("Width", "64"), ("Height", "64")):
        box = page.get_by_label(f"number input for {label}")
        box.fill(value)
        box.press("Tab")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("body")).to_contain_text("Made 1 image(s)", timeout=120_000)


@pytest.mark.slow
@pytest.mark.parametrize("served_studio", [{"embed_group": 32, "chunk_tokens": 48}], indirect=True)
def test_cancel_upload_keeps_what_was_stored_and_reports_the_rest_cancelled(page, served_studio, make_file):
    url, studio = served_studio
    # files are read ahead 32 chunks at a time, then embedded in batches of 128 chunks (a second
    # or more apiece: short chunks, so the test spends little time embedding) and stored: big-1
    # (~40 chunks) is stored on its own, big-2 (~500) takes several batches, then two small ones
    files = [make_file("big-1.md", field_notes(1, 20)), make_file("big-2.md", field_notes(2, 250)),
             make_file("small-3.md", field_notes(3, 5)), make_file("small-4.md", field_notes(4, 5))]
    page.goto(url)
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#kb-files input[type=file]").set_input_files([str(f) for f in files])
    page.get_by_role("button", name="Add to knowledge base").click()
    # the second file has been read, so the first is stored; the second is being embedded
    expect(page.locator("body")).to_contain_text("2/4 files read", timeout=120_000)
    page.locator("#cancel-upload").click()
    report = page.get_by_label("Upload report")
    expect(report).to_contain_text("cancelled", timeout=120_000)
    text = report.inner_text()
    status = dict(re.findall(r"(\S+\.md)\s+(added|cancelled|failed)", text))
    assert status == {"big-1.md": "added", "big-2.md": "cancelled", "small-3.md": "cancelled",
                      "small-4.md": "cancelled"}, text
    # what was fully stored stays, and nothing of the files cancelled
    assert {d.name for d in studio.kb.documents()} == {"big-1.md"}
    documents = page.get_by_label("Documents", exact=True)
    expect(documents).to_contain_text("big-1.md")
    assert "big-2.md" not in documents.inner_text()
    assert {p.document_name for p in studio.kb.search("heron tide marsh", k=5)} == {"big-1.md"}
