"""The studio in a real headless Chromium (Debian's, driven by Playwright): a writer's session.

Screenshots of each tab are taken on every run; with INKSTONE_UPDATE_SCREENSHOTS=1 they replace
the ones in docs/screenshots/ that the README shows (otherwise they go to the test's tmp folder,
so a test run leaves the work tree clean).
"""

import os
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def studio_url(served_studio):
    return served_studio[0]


@pytest.fixture
def shoot(tmp_path):
    folder = SCREENSHOTS if os.environ.get("INKSTONE_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        assert (folder / f"{name}.png").stat().st_size > 10_000  # a rendered page, not a blank

    return take


@pytest.mark.slow
def test_a_writers_session(page, studio_url, make_file, shoot, tmp_path):
    good = make_file("herons.md", "# Herons\n\nGrey herons hunt fish in shallow water at dawn. "
                                  "They stand still for a long time before they strike.")
    broken = make_file("broken.pdf", b"%PDF-1.4 this file is damaged")
    page.goto(studio_url)

    # Knowledge: upload two files, one broken, and see both outcomes
    page.get_by_role("tab", name="Knowledge").click()
    # by the upload box's test id: "input[type=file][multiple]" also finds the Images gallery
    page.locator("#kb-files input[type=file]").set_input_files([str(good), str(broken)])
    page.get_by_role("button", name="Add to knowledge base").click()
    report = page.get_by_label("Upload report")
    expect(report).to_contain_text("added", timeout=60_000)
    expect(report).to_contain_text("damaged")
    # search shows the passage with its source
    page.get_by_label("Search your material").fill("herons hunting at dawn")
    page.get_by_label("Search your material").press("Enter")
    results = page.get_by_label("What retrieval finds")
    expect(results).to_contain_text("herons.md", timeout=30_000)
    shoot(page, "knowledge")

    # Write: a short draft streams in; numbered sources are listed
    page.get_by_role("tab", name="Write").click()
    page.get_by_label("What should I write?").fill("Write a short note about herons")
    page.get_by_role("button", name="Write", exact=True).click()
    page.get_by_test_id("draft-summary").wait_for(timeout=120_000)
    expect(page.get_by_label("Sources")).to_contain_text("herons.md")
    assert "Your draft will appear here" not in page.inner_text("body")
    # export the draft as DOCX (citations as footnotes)
    page.get_by_role("button", name="Export DOCX").click()
    download_button = page.get_by_role("button", name="inkstone-draft-1.docx")
    expect(download_button).to_be_visible(timeout=30_000)
    shoot(page, "write")
    with page.expect_download() as download:
        download_button.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as docx:
        assert "word/footnotes.xml" in docx.namelist()

    # Images: generate with the tiny pipeline and see it in the gallery
    page.get_by_role("tab", name="Images").click()
    page.get_by_label("Prompt (English works best)").fill("a heron at dawn")
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("Made 1 image(s)").wait_for(timeout=120_000)
    assert "seeds 0." not in page.inner_text("body")  # an empty seed field draws a seed
    assert page.locator("img[src*='inkstone-']").count() >= 1
    shoot(page, "images")
    # reuse a result: its prompt and seed come back into the controls
    page.get_by_label("Prompt (English works best)").fill("something else")
    page.locator("img[src*='inkstone-']").first.click()
    expect(page.get_by_label("Prompt (English works best)")).to_have_value("a heron at dawn", timeout=30_000)
    seed = page.get_by_label("Seed (empty = random)").input_value()
    assert seed.isdigit() and f"Reusing the prompt and seed {seed}" in page.inner_text("body")

    # History: both the draft and the image are there
    page.get_by_role("tab", name="History").click()
    page.get_by_role("button", name="Refresh").first.click()
    table = page.get_by_label("Generations")
    expect(table).to_contain_text("image", timeout=30_000)
    expect(table).to_contain_text("write")
    shoot(page, "history")

    page.get_by_role("tab", name="System").click()
    page.locator("button:visible", has_text="Refresh").click()
    expect(page.locator("body")).to_contain_text("all-MiniLM-L6-v2", timeout=30_000)
    page.get_by_text("Prometheus metrics").first.click()  # folded away below the details
    expect(page.locator("body")).to_contain_text("inkstone_requests_total")
    shoot(page, "system")


def test_the_page_speaks_the_browsers_language(page, studio_url, shoot):
    chinese = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    zh = chinese.new_page()
    zh.goto(studio_url)
    expect(zh.get_by_role("tab", name="知识库")).to_be_visible(timeout=30_000)
    expect(zh.get_by_role("button", name="开始写作")).to_be_visible()
    expect(zh.get_by_label("要写什么？")).to_be_visible()
    expect(zh.locator("body")).to_contain_text("草稿会在生成时逐字显示在这里")
    # messages made while handling a request speak it too
    zh.get_by_role("button", name="重新生成").click()
    expect(zh.locator("body")).to_contain_text("请先写一篇草稿，再重新生成。", timeout=30_000)
    zh.get_by_role("tab", name="知识库").click()
    expect(zh.locator("body")).to_contain_text("上传文档，让写作有据可依")
    zh.get_by_label("搜索你的资料").fill("herons")
    zh.get_by_label("搜索你的资料").press("Enter")
    expect(zh.get_by_label("检索结果")).to_contain_text("没有找到相关段落", timeout=30_000)
    expect(zh.get_by_label("检索结果")).to_contain_text("得分")
    expect(zh.get_by_label("文档", exact=True)).to_contain_text("段数")
    shoot(zh, "knowledge-zh")
    chinese.close()
    # the same page in an English browser says it in English
    page.goto(studio_url)
    expect(page.get_by_role("button", name="Write", exact=True)).to_be_visible(timeout=30_000)
    assert "开始写作" not in page.inner_text("body")
