"""Two writers in two Chromium sessions: each logs in, one shares a collection, the other finds
it in search under the owner's name, and loses it when the owner takes it back."""

import pytest
from playwright.sync_api import expect

WRITERS = {"alice": "alice-password", "bob": "bob-password"}
HERONS = "# Herons\n\nGrey herons hunt fish in shallow water at dawn."


def log_in(page, url, name):
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(WRITERS[name])
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_role("tab", name="Knowledge")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Knowledge").click()


def search(page, words):
    box = page.get_by_label("Search your material")
    box.fill(words)
    box.press("Enter")
    return page.get_by_label("What retrieval finds")


@pytest.mark.parametrize("served_studio", [{"users": WRITERS}], indirect=True)
def test_a_shared_collection_is_found_by_the_other_writer_until_it_is_taken_back(page, served_studio, make_file):
    url, _ = served_studio
    alice, bob = page, page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(alice, url, "alice")
    alice.locator("#kb-files input[type=file]").set_input_files([str(make_file("herons.md", HERONS))])
    alice.get_by_role("button", name="Add to knowledge base").click()
    expect(alice.get_by_label("Upload report")).to_contain_text("added", timeout=60_000)

    log_in(bob, url, "bob")
    expect(search(bob, "grey herons hunt fish")).not_to_contain_text("herons.md", timeout=30_000)

    alice.get_by_label("Share with (user name)").fill("bob")
    alice.get_by_role("button", name="Share", exact=True).click()
    expect(alice.locator("body")).to_contain_text("bob", timeout=30_000)
    # bob sees her collection, named as hers, and his search in it finds her passage
    bob.reload()
    bob.get_by_role("tab", name="Knowledge").click()
    bob.get_by_label("Collection", exact=True).click()
    bob.get_by_role("option", name="alice/notes").click()
    expect(search(bob, "grey herons hunt fish, at dawn")).to_contain_text("herons.md", timeout=30_000)

    alice.get_by_label("none").check()
    alice.get_by_role("button", name="Share", exact=True).click()
    expect(alice.locator("body")).to_contain_text("no longer", timeout=30_000)
    bob.reload()
    bob.get_by_role("tab", name="Knowledge").click()
    bob.get_by_label("Collection", exact=True).click()
    expect(bob.get_by_role("option", name="alice/notes")).to_have_count(0)
    expect(search(bob, "grey herons hunting")).not_to_contain_text("herons.md", timeout=30_000)
