"""The everyday path in Chromium, where a writer stumbled (issue 13): refusals that leave the
page as it was, honest progress and tables, a History record that explains itself, a System tab
that speaks plainly, an Images tab that does not promise what it cannot do."""

import re

import pytest
from playwright.sync_api import expect

HERONS = ("# Herons\n\nGrey herons hunt fish in shallow water at dawn. "
          "They stand still for a long time before they strike.")


@pytest.fixture
def studio_url(served_studio):
    return served_studio[0]


def error_badges(page):
    """Red "Error" marks Gradio leaves on a component whose event failed."""
    return page.locator("[data-testid=status-tracker] span.error:visible")


def upload(page, *paths):
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#kb-files input[type=file]").set_input_files([str(p) for p in paths])
    page.get_by_role("button", name="Add to knowledge base").click()
    expect(page.get_by_label("Upload report")).to_contain_text("added", timeout=60_000)


@pytest.mark.slow
def test_write_refuses_before_clearing_and_says_what_to_do_first(page, studio_url, make_file):
    page.goto(studio_url)
    # an empty knowledge base: the Write tab says what to do first; no draft id is "0"
    expect(page.locator("#empty-kb-hint")).to_contain_text("Start by adding your material", timeout=30_000)
    assert page.get_by_label("Draft id").input_value() == ""

    upload(page, make_file("herons.md", HERONS))
    page.get_by_role("tab", name="Write").click()
    expect(page.locator("#empty-kb-hint")).to_be_hidden()
    page.get_by_label("What should I write?").fill("Write a short note about herons")
    # one prompt to the model streams token by token (a source-first draft comes in a few blocks)
    page.get_by_label("How to write").click()
    page.get_by_role("option", name=re.compile("One prompt")).click()
    page.get_by_role("button", name="Write", exact=True).click()
    # while it runs, the status counts words and seconds
    expect(page.locator("body")).to_contain_text(re.compile(r"\d+ words so far · \d+ s"), timeout=120_000)
    page.get_by_test_id("draft-summary").wait_for(timeout=120_000)
    draft_text = page.locator("body").inner_text()
    done = re.search(r"sentences supported.*draft #\d+", draft_text)[0]

    # an empty request is refused; the draft, its sources and the status stay as they were
    page.get_by_label("What should I write?").fill("")
    page.get_by_role("button", name="Write", exact=True).click()
    expect(page.locator("body")).to_contain_text("the request is empty", timeout=30_000)
    expect(page.get_by_label("Sources")).to_contain_text("herons.md")
    assert done in page.locator("body").inner_text()
    assert "Your draft will appear here" not in page.locator("body").inner_text()
    # and a too-long one too
    page.get_by_label("What should I write?").fill("herons " * 1200)
    page.get_by_role("button", name="Write", exact=True).click()
    expect(page.locator("body")).to_contain_text("the limit is", timeout=30_000)
    expect(page.get_by_label("Sources")).to_contain_text("herons.md")
    assert done in page.locator("body").inner_text()
    expect(error_badges(page)).to_have_count(0)


def test_knowledge_tells_the_truth_about_batches_collections_and_search(page, studio_url, make_file):
    good = make_file("herons.md", HERONS)
    broken = make_file("broken.pdf", b"%PDF-1.4 this file is damaged")
    page.goto(studio_url)
    upload(page, good, broken)
    report = page.get_by_label("Upload report")
    expect(report).to_contain_text("damaged")
    # the refused file is in the report, not a row of the document table
    documents = page.get_by_label("Documents", exact=True)
    expect(documents).to_contain_text("herons.md")
    expect(documents).not_to_contain_text("broken.pdf")
    # the file box is empty again: nothing waits to be sent twice
    assert page.locator("#kb-files").get_by_text("herons.md").count() == 0

    # a search with nothing searchable says so, instead of arbitrary passages
    page.get_by_label("Search your material").fill("?!…")
    page.get_by_label("Search your material").press("Enter")
    expect(page.locator("body")).to_contain_text("Nothing to search for", timeout=30_000)
    expect(page.get_by_label("What retrieval finds")).not_to_contain_text("herons.md")

    # creating a nameless collection is refused with a toast; nothing is left marked "Error"
    page.get_by_role("button", name="Create").click()
    page.wait_for_timeout(1500)
    expect(error_badges(page)).to_have_count(0)

    # deleting a collection asks first and says how many documents go with it
    page.get_by_role("button", name="Delete collection").click()
    expect(page.locator("body")).to_contain_text("Delete collection default and the 1 document(s)",
                                                 timeout=30_000)
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_role("button", name="Yes, delete it")).to_be_hidden()
    expect(documents).to_contain_text("herons.md")
    page.get_by_role("button", name="Delete collection").click()
    page.get_by_role("button", name="Yes, delete it").click()
    expect(documents).not_to_contain_text("herons.md", timeout=30_000)


def test_history_explains_a_record_and_exports_any_version(page, studio_url, make_file):
    page.goto(studio_url)
    page.get_by_role("tab", name="History").click()
    expect(page.locator("body")).to_contain_text("Nothing yet", timeout=30_000)
    upload(page, make_file("herons.md", HERONS))
    page.get_by_role("tab", name="Write").click()
    # two different drafts (the same request would compose the same source-first draft)
    for number, request in ((1, "Write a short note about herons"), (2, "Write an email about herons")):
        page.get_by_label("What should I write?").fill(request)
        page.get_by_role("button", name="Write", exact=True).click()
        expect(page.locator("body")).to_contain_text(f"draft #{number}", timeout=120_000)
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_label("Generations")).to_contain_text("write", timeout=30_000)
    expect(page.get_by_text("Nothing yet")).to_be_hidden()

    page.get_by_label("Generation id").fill("1")
    page.get_by_label("Compare with id").fill("2")
    page.get_by_role("button", name="Compare side by side").click()
    expect(page.locator("body")).to_contain_text("version 1", timeout=30_000)
    page.get_by_role("button", name="Open").click()
    # the record: its brief, its sources as a list, its exact prompt behind a disclosure
    expect(page.locator("body")).to_contain_text("Brief:", timeout=30_000)
    expect(page.locator("body")).to_contain_text("1. ")
    expect(page.locator("body")).to_contain_text("herons.md")
    assert "version 1" not in page.locator("body").inner_text()  # the comparison went
    expect(page.get_by_text("Exact prompt the model saw").first).to_be_visible()
    # any version can be exported from here
    page.get_by_role("button", name="Export Markdown").last.click()
    expect(page.get_by_role("button", name="inkstone-draft-1.md")).to_be_visible(timeout=30_000)
    expect(error_badges(page)).to_have_count(0)


def test_system_speaks_plainly_first(page, studio_url):
    page.goto(studio_url)
    page.get_by_role("tab", name="System").click()
    summary = page.locator("#system-summary")
    expect(summary).to_contain_text("Text model", timeout=30_000)
    for words in ("Embedding model", "Knowledge base:", "Drafts today", "Errors in the last hour"):
        expect(summary).to_contain_text(words)
    body = page.locator("body").inner_text()
    assert "Object(" not in body
    # the Prometheus text is there, folded away
    assert "inkstone_requests_total" not in body
    page.get_by_text("Prometheus metrics").first.click()
    expect(page.locator("body")).to_contain_text("inkstone_generations_waiting", timeout=30_000)


def test_images_tab_promises_only_what_it_can_do(page, studio_url):
    page.goto(studio_url)
    page.get_by_role("tab", name="Images").click()
    expect(page.get_by_role("button", name="Generate")).to_be_enabled(timeout=30_000)
    # the results gallery shows results; it does not offer to take uploads
    gallery = page.locator("#image-results")
    expect(gallery).to_be_visible()
    assert gallery.locator("input[type=file]").count() == 0
    assert "Drop" not in gallery.inner_text() and "Upload" not in gallery.inner_text()


@pytest.mark.parametrize("served_studio", [{"no_images": True}], indirect=True)
def test_without_an_image_model_the_images_tab_says_so_to_a_writer(page, studio_url, make_file):
    chinese = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    zh = chinese.new_page()
    zh.goto(studio_url)
    zh.get_by_role("tab", name="配图").click()
    expect(zh.locator("#images-off")).to_contain_text("本工作室尚未开启配图", timeout=30_000)
    expect(zh.locator("#images-off")).to_contain_text("INKSTONE_IMAGE_MODEL=")
    chinese.close()

    page.goto(studio_url)
    page.get_by_role("tab", name="Images").click()
    expect(page.get_by_role("button", name="Generate")).to_be_disabled(timeout=30_000)
    page.get_by_label("…or this passage").fill("Grey herons hunt fish in shallow water at dawn.")
    page.get_by_role("button", name="Illustrate the current draft").click()
    expect(page.locator("body")).to_contain_text("Prompt derived from the selection", timeout=60_000)
    assert "then Generate" not in page.locator("body").inner_text()


def test_revise_then_rerun_and_compare_from_history(page, studio_url, make_file):
    page.goto(studio_url)
    upload(page, make_file("herons.md", HERONS))
    page.get_by_role("tab", name="Write").click()
    page.get_by_label("What should I write?").fill("Write a short note about herons")
    page.get_by_role("button", name="Write", exact=True).click()
    expect(page.locator("body")).to_contain_text("draft #1", timeout=120_000)

    # revise a passage of the draft: a new version, #2, recorded as revising #1
    page.get_by_text("Edit this draft by hand").first.click()
    sentence = "Grey herons hunt fish in shallow water at dawn."
    assert sentence in page.locator("#draft-editor textarea").input_value()
    page.get_by_label("Selection to revise").fill(sentence)
    page.get_by_role("button", name="Revise", exact=True).click()
    expect(page.locator("body")).to_contain_text("draft #2", timeout=120_000)
    expect(error_badges(page)).to_have_count(0)

    page.get_by_role("tab", name="History").click()
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_label("Generations")).to_contain_text("rewrite", timeout=30_000)
    page.get_by_label("Generation id").fill("2")
    page.get_by_role("button", name="Open").click()
    expect(page.locator("body")).to_contain_text("Revises #1.", timeout=30_000)

    # re-run #1 from its record: #3, the same text, so comparing them shows no differences
    page.get_by_label("Generation id").fill("1")
    page.get_by_role("button", name="Re-run").click()
    expect(page.locator("body")).to_contain_text("Re-ran generation 1 as #3", timeout=120_000)
    page.get_by_label("Compare with id").fill("3")
    page.get_by_role("button", name="Compare side by side").click()
    expect(page.locator("body")).to_contain_text("(no differences)", timeout=30_000)
    expect(error_badges(page)).to_have_count(0)


def test_a_chinese_page_hears_the_studios_reasons_in_chinese(page, studio_url):
    chinese = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    zh = chinese.new_page()
    zh.goto(studio_url)
    zh.get_by_label("要写什么？").fill("鹭" * 9000)
    zh.get_by_role("button", name="开始写作", exact=True).click()
    expect(zh.locator("body")).to_contain_text("请求有 9000 个字符，上限是 8000", timeout=30_000)
    chinese.close()
