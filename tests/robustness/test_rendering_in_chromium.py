"""Hostile text in a real Chromium: HTML and Markdown in file names, document text and model
output are shown as text, never run or rendered as live HTML."""

import pytest
from playwright.sync_api import expect

ATTACKS = ['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=2</script>",
           '<a href="javascript:window.__pwned=3">click me</a>', '<iframe src="javascript:window.__pwned=4"></iframe>']


class InjectingModel:
    """A stand-in text model whose output is an attack (the page's rendering is under test)."""

    model_id = "injecting-test-model"
    backend = "test"
    context_window = 2048

    def count_tokens(self, text):
        return len(text.split())

    def info(self):
        return {"id": self.model_id}

    def stream(self, messages, settings, cancel=None):
        yield "Herons hunt at dawn [1]. " + " ".join(ATTACKS) + " [click](javascript:window.__pwned=5)"


@pytest.mark.parametrize("served_studio", [{"generator": InjectingModel()}], indirect=True)
def test_hostile_text_is_shown_as_text_everywhere(page, served_studio, make_file):
    url, studio = served_studio
    studio.kb.add_files([(make_file("notes.md", "Herons hunt fish at dawn. " + " ".join(ATTACKS)),
                          '<img src=x onerror="window.__pwned=9">.md')])
    page.goto(url)

    page.get_by_role("tab", name="Knowledge").click()
    # the page has loaded its tables before the search: one sent sooner was lost once, on a
    # loaded machine (the results table stayed empty for 30 s)
    expect(page.get_by_label("Documents")).to_contain_text('<img src=x onerror="window.__pwned=9">.md',
                                                           timeout=30_000)
    page.get_by_label("Search your material").fill("herons hunt fish")
    page.get_by_label("Search your material").press("Enter")
    expect(page.get_by_label("What retrieval finds")).to_contain_text("window.__pwned=2", timeout=30_000)

    page.get_by_role("tab", name="Write").click()
    page.get_by_label("What should I write?").fill("Write a note about herons")
    page.get_by_role("button", name="Write", exact=True).click()
    page.get_by_test_id("draft-summary").wait_for(timeout=60_000)
    expect(page.locator("body")).to_contain_text("<script>window.__pwned=2</script>")

    page.get_by_role("tab", name="History").click()
    page.get_by_label("Generation id").fill("1")
    page.get_by_role("button", name="Open").click()
    expect(page.locator("body")).to_contain_text('<iframe src="javascript:window.__pwned=4">', timeout=30_000)

    # the attacks are on the page as text; none of them is an element or has run
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x'], iframe[src^='javascript'], a[href^='javascript']").count() == 0
    assert "window.__pwned" not in " ".join(page.locator("script").evaluate_all("s => s.map(e => e.textContent)"))
