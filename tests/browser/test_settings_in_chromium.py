"""Settings and the model picker in a real headless Chromium, against a real llama.cpp server:
connect it (its key never comes back to the page), test it, pick its model and write with it;
a Chinese request with the English-only default model is stopped before writing and offered
the Chinese-capable connection, or written anyway when asked."""

import pytest
from playwright.sync_api import expect

from studio.text_generation import TransformersGenerator
from tests.model_server import API_KEY, MODEL_ALIAS


@pytest.mark.slow
@pytest.mark.parametrize("served_studio", [{"max_new_tokens": 96}], indirect=True)  # short drafts: a 1-thread server
def test_connect_a_server_pick_its_model_and_write(page, served_studio, model_server, make_file, tiny_text_model,
                                                   tmp_path):
    url, studio = served_studio
    # the studio's own model is a SmolLM2 (the tiny test weights under that family's name): English only
    smollm = tmp_path / "SmolLM2-tiny-test"
    smollm.symlink_to(tiny_text_model)
    studio.generator = studio.catalog.default = TransformersGenerator(str(smollm), cache_dir=tmp_path / "models")
    studio.kb.add_files([make_file("herons.md", "# Herons\n\nGrey herons hunt fish in shallow water at dawn.\n\n"
                                                "灰鹭在黎明时分于浅水中捕鱼。它们会长时间一动不动。")])
    page.goto(url)
    page.get_by_role("tab", name="Settings").click()
    page.locator("#connection-name textarea, #connection-name input").first.fill("laptop")
    page.locator("#connection-url textarea, #connection-url input").first.fill(model_server.url)
    # a wrong key first: the test says so
    page.locator("#connection-key input").fill("wrong")
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#connection-outcome")).to_contain_text("refused the API key (401)", timeout=30_000)
    page.locator("#connection-key input").fill(API_KEY)
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#connection-outcome")).to_contain_text(f"1 model(s): {MODEL_ALIAS}", timeout=30_000)
    page.locator("#connection-languages textarea, #connection-languages input").first.fill("en, zh")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#connection-outcome")).to_contain_text("Saved laptop.", timeout=30_000)
    listing = page.locator("#connections")
    expect(listing).to_contain_text("•••• set")
    expect(page.locator("#connection-key input")).to_have_value("")
    assert API_KEY not in page.content()
    assert studio.catalog.connections.list()[0].has_key

    # Write: a Chinese request with the English-only default is stopped, and the connection offered
    page.get_by_role("tab", name="Write").click()
    page.get_by_role("button", name="↻ Models").click()
    prompt = page.get_by_label("What should I write?")
    prompt.fill("写一段关于灰鹭的短文")
    page.get_by_role("button", name="Write", exact=True).click()
    expect(page.get_by_text("writes only English").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"Models that write Chinese: {MODEL_ALIAS} · laptop").first).to_be_visible()
    assert studio.history.count() == 0

    # pick the connected model: its facts are shown, and the draft is recorded as made by it
    picker = page.locator("#model-picker input")
    picker.click()
    page.get_by_role("option", name=f"{MODEL_ALIAS} · laptop").click()
    expect(page.locator("#model-facts")).to_contain_text("openai · context")
    expect(page.locator("#model-facts")).to_contain_text("English, 中文")
    page.get_by_role("button", name="Write", exact=True).click()
    # 96 tokens from a server on a shared 2-core machine: a generous wait
    page.get_by_test_id("draft-summary").wait_for(timeout=300_000)
    record = studio.history.list()[0]
    assert (record.model_id, record.backend, record.settings["model"]) == (MODEL_ALIAS, "openai", f"laptop/{MODEL_ALIAS}")

    # back to the default model: "Write anyway" writes the Chinese request with it
    picker.click()
    page.get_by_role("option", name=f"{studio.generator.model_id} · embedded").click()
    page.locator("#write-anyway input").check()
    page.get_by_role("button", name="Write", exact=True).click()
    expect(page.get_by_text(f"draft #{record.id + 1}").first).to_be_visible(timeout=120_000)
    assert studio.history.count() == 2
