"""What the sentence check shows a writer in a real Chromium: a summary under the draft,
citations that open their passage with the supporting words highlighted, flagged sentences
with a tooltip, and an edit re-checked on save; in English and Chinese pages."""

import re

import pytest
from playwright.sync_api import expect

TIDES = ("# Tides\n\nTides rise and fall twice a day because the moon pulls on the oceans. "
         "Spring tides happen when the sun and the moon line up with the earth.\n\n"
         "## Safety\n\nRising water can cut off a beach within 20 minutes on a flat coast. "
         "Always check the local tide table before walking out onto the sand flats.")


@pytest.fixture
def studio_url(served_studio, make_file):
    url, studio = served_studio
    studio.kb.add_files([make_file("tides.md", TIDES)])
    return url


def write_draft(page, prompt):
    page.get_by_label("What should I write?").fill(prompt)
    page.get_by_role("button", name="Write", exact=True).click()
    page.get_by_test_id("draft-summary").wait_for(timeout=120_000)


def test_citations_open_their_passage_and_an_edit_is_rechecked(page, studio_url, tmp_path):
    shots = tmp_path
    page.goto(studio_url)
    write_draft(page, "Write a short article about tides and beach safety")
    summary = page.get_by_test_id("draft-summary")
    expect(summary).to_contain_text("sentences supported")
    citations = page.get_by_test_id("citation")
    assert citations.count() >= 2
    # a citation opens the whole passage, its document, and the exact supporting words
    citations.first.click()
    passage = page.locator(".ink-pop:popover-open")
    expect(passage).to_be_visible()
    expect(passage.locator(".ink-where")).to_contain_text("tides.md")
    highlighted = passage.locator("mark").inner_text()
    sentence = page.locator(".ink-draft p").filter(has=page.get_by_test_id("citation")).first.inner_text()
    assert highlighted and highlighted in sentence
    page.keyboard.press("Escape")
    expect(passage).to_have_count(0)
    page.screenshot(path=str(shots / "grounding.png"), full_page=True)

    # the writer edits the draft by hand: saving re-checks it and marks what no source says
    page.get_by_text("Edit this draft by hand").click()
    editor = page.locator("#draft-editor textarea")
    expect(editor).to_have_value(re.compile(r"\[\d+\]"))  # the draft is in the editor (it arrives after the click)
    editor.fill(editor.input_value() + "\n\nRising water can cut off a beach within 45 minutes on a flat coast.")
    page.get_by_role("button", name="Save and re-check").click()
    flagged = page.locator(".ink-partial")
    expect(flagged).to_have_count(1, timeout=30_000)
    assert flagged.get_attribute("title") == "Not in the source: 45 minutes"
    expect(page.get_by_test_id("draft-summary")).to_contain_text("1 partly")
    expect(page.get_by_text("Saved as draft #2")).to_be_visible()


def test_the_chinese_page_words_the_check_in_chinese(page, studio_url):
    page = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(studio_url)
    page.get_by_label("要写什么？").fill("Write a short article about tides")
    page.get_by_role("button", name="开始写作", exact=True).click()
    summary = page.get_by_test_id("draft-summary")
    summary.wait_for(timeout=120_000)
    expect(summary).to_contain_text("句有来源支持")
    assert page.get_by_test_id("citation").count() >= 1
