"""Every reader on small generated files: the text a writer uploaded comes out, titled and paged."""

import re

import pytest

from knowledge.encoding import decode_text, detect_encoding
from knowledge.errors import UnreadableFile
from knowledge.readers import read_document
from tests.documents import docx_bytes, pdf_bytes

ZH = "北京是中华人民共和国的首都，也是全国的政治和文化中心。长城是世界上最长的城墙。"
ZH_TW = "臺北是中華民國的首都，也是臺灣的政治、經濟與文化中心。故宮博物院收藏豐富。"
JA = "東京は日本の首都であり、世界でも有数の大都市です。多くの人が毎日電車で通勤しています。"
FR = "Le café crème coûte trois euros – « très cher », dit-elle à la serveuse déjà fatiguée."
DE = "Die Straße führt über die Brücke zum Schloß; Müller grüßt die Bäuerin freundlich."


@pytest.mark.parametrize("text, encoding", [
    (FR, "utf-8"), (FR, "utf-8-sig"), (ZH, "utf-16"), (FR, "utf-16-le"), (FR, "utf-16-be"),
    (ZH, "gbk"), (ZH_TW, "big5"), (JA, "shift_jis"), (FR, "cp1252"), (DE, "latin-1"),
])
def test_text_encodings_are_detected_not_assumed(text, encoding):
    data = text.encode(encoding)
    assert decode_text(data) == text
    doc = read_document(data, "notes.txt")
    assert doc.blocks[0].text == text
    assert doc.title == "notes"


def test_cp1252_curly_quotes_are_not_control_characters():
    data = "“Smart quotes” and an em dash — in a Windows file".encode("cp1252")
    assert detect_encoding(data) == "cp1252"
    assert decode_text(data).startswith("“Smart quotes”")


def test_markdown_headings_title_and_links():
    source = "# Tides\n\nThe moon pulls the [sea](https://x.example).\n\n## Spring tides\n\nBigger.\n"
    doc = read_document(source.encode(), "tides.md")
    assert doc.title == "Tides"
    assert [b.text for b in doc.blocks] == ["Tides", "The moon pulls the sea.", "Spring tides", "Bigger."]
    assert doc.blocks[3].headings == ("Tides", "Spring tides")
    assert doc.blocks[2].is_heading


def test_markdown_code_fence_is_not_a_heading():
    doc = read_document(b"```\n# not a heading\n```\ntext", "code.md")
    assert not any(b.is_heading for b in doc.blocks)


def test_markdown_front_matter_title():
    doc = read_document(b"---\ntitle: My Essay\n---\nBody text.", "x.md")
    assert doc.title == "My Essay"
    assert doc.blocks[0].text == "Body text."


def test_html_keeps_main_text_and_drops_menus_and_scripts():
    html = """<html><head><title>Field notes</title><script>var secret = 1;</script>
    <style>p{}</style></head><body>
    <nav><a href="/">Home</a> <a href="/about">About us</a></nav>
    <div class="sidebar-menu">Subscribe now</div>
    <article><h1>Herons</h1><p>Grey herons hunt <b>patiently</b> in shallow water.</p>
    <h2>Nesting</h2><p onclick="alert(1)">They nest in colonies.</p>
    <table><tr><td>Length</td><td>1 m</td></tr></table></article>
    <footer>Copyright</footer></body></html>"""
    doc = read_document(html.encode(), "herons.html")
    text = "\n".join(b.text for b in doc.blocks)
    assert doc.title == "Field notes"
    assert "Grey herons hunt patiently in shallow water." in text
    assert "Length | 1 m |" in text
    for noise in ("secret", "Home", "About us", "Subscribe", "Copyright", "alert"):
        assert noise not in text
    nesting = next(b for b in doc.blocks if b.text == "They nest in colonies.")
    assert nesting.headings == ("Herons", "Nesting")


# A news page as they come: navigation, a share bar whose class names no rule lists
# (Baidu's "bdsharebuttonbox"), the article, related links and a footer.
NEWS_PAGE = """<html><head><meta charset="utf-8"><title>宇航员在太空中喝酒会怎么样</title></head><body>
<div class="topbar"><a href="/">首页</a> | <a href="/news">新闻</a> | <a href="/tech">科技</a> | <a href="/login">登录</a></div>
<div class="bdsharebuttonbox"><span>分享到</span><a>新浪微博</a><a>腾讯微博</a><a>QQ空间</a><a>人人网</a><a>豆瓣网</a></div>
<div class="content"><h1>宇航员在太空中喝酒会怎么样？</h1>
<p>2017-03-10 09:58 来源：网易科学人</p>
<p>翱翔于距地球数千公里的太空中，进入广袤漆黑的未知领域，是一项艰苦卓绝的工作。这让人感到巨大压力和极度恐慌。那么，为什么不能让宇航员来一杯鸡尾酒来放松一下？</p>
<p>不幸的是，对于希望能喝上一杯的太空探险者，那些将他们送上太空的政府机构普遍禁止他们染指包括酒在内的含酒精饮料。</p>
<p>事实是，历史上酒与太空探险有一种复杂的关系。让我们来看看喝了酒的航天员究竟会发生什么，如果我们开始给予进入太空的人类更大的自由度，又可能会发生什么。</p>
<p>人们普遍认为，当一个人所处的海拔越高，喝醉后会越容易感到头昏。因此，人们自然地想到，当人身处地球轨道上时，饮酒会对人体有更强烈的致眩作用。但这种说法可能不是正确的。</p>
</div>
<div class="bdsharebuttonbox"><span>分享到</span><a>新浪微博</a><a>腾讯微博</a><a>QQ空间</a><a>复制网址</a><a>更多平台</a></div>
<div class="hotnews"><h3>热点推荐</h3><ul><li><a>明星出席活动</a></li><li><a>手机新品发布</a></li></ul></div>
<div class="copyright">版权所有 光明网 京ICP证000001号</div>
</body></html>"""


def test_html_keeps_the_article_of_a_news_page_without_its_share_bars():
    doc = read_document(NEWS_PAGE.encode(), "news.html")
    text = "\n".join(b.text for b in doc.blocks)
    assert "翱翔于距地球数千公里的太空中" in text and "但这种说法可能不是正确的。" in text
    for chrome in ("分享到", "新浪微博", "QQ空间", "复制网址", "登录", "热点推荐", "京ICP证"):
        assert chrome not in text, chrome


def test_pdf_hyphenation_and_control_characters_are_cleaned():
    # PDFium turns a hyphen at a line end into \x02 and drops the line break: "algo\x02rithm"
    doc = read_document(pdf_bytes(["An algo-\nrithm runs in poly-\nnomial time.\x07"]), "a.pdf")
    text = "\n".join(b.text for b in doc.blocks)
    assert "An algorithm runs in polynomial time." in text
    assert not re.search(r"[\x00-\x08\x0b-\x1f]", text), repr(text)


def test_text_files_lose_stray_control_characters():
    body = "Grey herons hunt fish in shallow water at dawn and stand still before they strike. " * 4
    doc = read_document(("Grey\x02 herons\x1b hunt.\ufeff\n" + body).encode(), "notes.txt")
    assert doc.blocks[0].text.strip() == "Grey herons hunt.\n" + body.strip()


def test_html_declared_charset_is_honoured():
    html = '<html><head><meta charset="gbk"><title>标题</title></head><body><p>' + ZH + "</p></body></html>"
    doc = read_document(html.encode("gbk"), "zh.html")
    assert doc.title == "标题"
    assert doc.blocks[0].text == ZH


def test_pdf_text_per_page_and_title():
    data = pdf_bytes(["First page about glaciers.", "Second page about moraines."], title="Ice")
    doc = read_document(data, "ice.pdf")
    assert doc.title == "Ice"
    assert doc.pages == 2
    assert [(b.page, b.text.strip()) for b in doc.blocks] == [
        (1, "First page about glaciers."), (2, "Second page about moraines.")]


@pytest.mark.parametrize("data, reason", [
    (pdf_bytes(["secret"], password="pw"), "is encrypted; remove the password"),
    (pdf_bytes(["", ""], drawing_only=True), "has no text layer"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage", "is damaged or not a PDF"),
])
def test_pdf_failures_say_what_to_do(data, reason):
    with pytest.raises(UnreadableFile, match=reason):
        read_document(data, "report.pdf")


def test_docx_paragraphs_headings_and_tables():
    data = docx_bytes([("h1", "Harbour report"), ("p", "Boats arrive at dawn."),
                       ("h2", "Costs"), ("p", "Mooring is cheap. 停泊很便宜。")],
                      table=[["Item", "Price"], ["Mooring", "5 EUR"]])
    doc = read_document(data, "harbour.docx")
    assert doc.title == "Harbour report"
    texts = [b.text for b in doc.blocks]
    assert "Boats arrive at dawn." in texts
    assert "Item | Price\nMooring | 5 EUR" in texts
    costs = next(b for b in doc.blocks if b.text.startswith("Mooring is cheap"))
    assert costs.headings == ("Harbour report", "Costs")


def test_docx_core_title_wins():
    doc = read_document(docx_bytes([("p", "Body.")], title="Official Title"), "a.docx")
    assert doc.title == "Official Title"


@pytest.mark.parametrize("name, data, reason", [
    ("photo.jpg", b"\xff\xd8\xff", "unsupported file type"),
    ("noext", b"text", "unsupported file type"),
    ("real.txt", pdf_bytes(["x"]), "is a PDF file with a .txt name"),
    ("broken.docx", b"not a zip at all", "not a ZIP archive"),
])
def test_unsupported_or_lying_files(name, data, reason):
    with pytest.raises(UnreadableFile, match=reason):
        read_document(data, name)


def _docx(build) -> bytes:
    import io

    import docx

    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_headers_and_footers_are_read():
    def build(document):
        document.add_paragraph("Grey herons hunt at dawn.")
        section = document.sections[0]
        section.header.paragraphs[0].text = "Acme field notes: confidential"
        section.footer.paragraphs[0].text = "Prepared by the heron survey team"

    doc = read_document(_docx(build), "notes.docx")
    texts = [b.text for b in doc.blocks]
    assert "Grey herons hunt at dawn." in texts
    assert "Acme field notes: confidential" in texts and "Prepared by the heron survey team" in texts


def test_docx_table_with_a_ragged_grid_that_word_opens_is_read():
    # A row with fewer cells than the grid, under a vertically merged cell: python-docx's
    # row.cells raises "no `tc` element at grid_offset=1"; Word shows the table.
    from docx.oxml.ns import qn
    from docx.oxml import OxmlElement

    def build(document):
        document.add_paragraph("Tide table.")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "Harbour"
        table.cell(1, 0).text = "North quay"
        table.cell(1, 1).text = "06:40 high water"
        first, second = table.rows[0]._tr, table.rows[1]._tr
        first.remove(first.findall(qn("w:tc"))[1])  # the first row is one cell short
        merge = OxmlElement("w:vMerge")  # and the cell below continues a merge from it
        second.findall(qn("w:tc"))[1].get_or_add_tcPr().append(merge)

    doc = read_document(_docx(build), "tides.docx")
    text = "\n".join(b.text for b in doc.blocks)
    assert "Harbour" in text and "North quay | 06:40 high water" in text


def test_html_that_is_really_xml_is_read_without_a_parser_warning():
    import warnings

    page = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Heron news</title>'
            b"<item><title>Herons return</title><description>Grey herons returned to the marsh at dawn, "
            b"a week earlier than last year.</description></item></channel></rss>")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        doc = read_document(page, "feed.html")
    assert "Grey herons returned to the marsh" in "\n".join(b.text for b in doc.blocks)
