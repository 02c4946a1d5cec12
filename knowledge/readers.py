"""Readers: the bytes of one file in, its text as titled, paged, headed blocks out.

Every reader raises :class:`UnreadableFile` with a message a writer can act on. Readers that
parse complex binary formats (PDF, DOCX, HTML) are run inside :mod:`knowledge.sandbox`, so a
file that hangs or balloons a parser costs one bounded child process, not the studio.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

from knowledge.encoding import decode_text
from knowledge.errors import UnreadableFile

# Extension -> document type. The type decides the reader.
FILE_TYPES = {
    ".txt": "txt", ".text": "txt",
    ".md": "md", ".markdown": "md",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SANDBOXED_TYPES = {"pdf", "docx", "html"}


@dataclass
class Block:
    """A run of text that shares one page and one heading path."""

    text: str
    page: int | None = None  # 1-based, where the format has pages
    headings: tuple[str, ...] = ()  # e.g. ("Chapter 2", "Methods")
    is_heading: bool = False


@dataclass
class ParsedDocument:
    title: str
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None

    @property
    def has_text(self) -> bool:
        return any(b.text.strip() for b in self.blocks)


def file_type(name: str) -> str:
    """The document type for a file name, or raise :class:`UnreadableFile` naming the formats."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in FILE_TYPES:
        kinds = "TXT, Markdown, HTML, PDF or DOCX"
        shown = suffix or "no extension"
        raise UnreadableFile(f"{name}: unsupported file type ({shown}); upload {kinds}",
                             code="file_unsupported", name=name, type=shown)
    return FILE_TYPES[suffix]


def read_document(data: bytes, name: str) -> ParsedDocument:
    """Parse ``data`` (the content of a file called ``name``) into a :class:`ParsedDocument`."""
    kind = file_type(name)
    if kind in ("txt", "md", "html"):
        _check_really_text(data, name)
    reader = {"txt": read_txt, "md": read_markdown, "html": read_html,
              "pdf": read_pdf, "docx": read_docx}[kind]
    return reader(data, name)


# What a file that claims to be text may really be, by its first bytes.
_SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
               (b"GIF8", "a GIF image"), (b"\x1f\x8b", "a gzip archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
               (b"Rar!", "a RAR archive"), (b"\x7fELF", "a program"), (b"MZ", "a Windows program"),
               (b"\xd0\xcf\x11\xe0", "an old Office (.doc/.xls) file"), (b"RIFF", "a media file")]


def _check_really_text(data: bytes, name: str) -> None:
    # A text reader happily "reads" a PDF or ZIP renamed to .txt; say what the file really is.
    suffix = PurePath(name).suffix
    if data.startswith(b"%PDF-"):
        raise UnreadableFile(f"{name}: is a PDF file with a {suffix} name; rename it to .pdf",
                             code="file_is_pdf", name=name, suffix=suffix)
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(f"{name}: is a ZIP or Office file, not text; save it as .docx or text",
                             code="file_is_zip", name=name)
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise UnreadableFile(f"{name}: is {what}, not text", code="file_binary", name=name)


def _decode_text_file(data: bytes, name: str, declared: str | None = None) -> str:
    """Decoded text, or :class:`UnreadableFile` when it decodes to binary noise (control
    characters or undecodable bytes in more than 1% of the first 64k characters)."""
    text = decode_text(data, declared)
    sample = text[:65536]
    noise = sum(1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\x0c\x0b"))
    if sample and noise > len(sample) / 100:
        raise UnreadableFile(f"{name}: is a binary file, not text", code="file_binary", name=name)
    return text


# --- plain text and Markdown -------------------------------------------------------------


def read_txt(data: bytes, name: str) -> ParsedDocument:
    text = _normalise(_decode_text_file(data, name))
    return ParsedDocument(title=PurePath(name).stem, blocks=[Block(text)] if text.strip() else [])


_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_MD_FENCE = re.compile(r"^(```|~~~)")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*['\"]?(.+?)['\"]?\s*$", re.M)


def read_markdown(data: bytes, name: str) -> ParsedDocument:
    text = _normalise(_decode_text_file(data, name))
    title = None
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end > 0:
            match = _FRONT_MATTER_TITLE.search(text[4:end])
            title = match.group(1) if match else None
            text = text[end + 4 :].lstrip("\n")
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            blocks.append(Block(body, headings=tuple(h for _, h in headings)))
        lines.clear()

    for line in text.split("\n"):
        if _MD_FENCE.match(line.strip()):
            in_fence = not in_fence
            lines.append(line)
            continue
        match = None if in_fence else _MD_HEADING.match(line)
        if match:
            flush()
            level, heading = len(match.group(1)), _inline_markdown(match.group(2))
            headings = [(lv, h) for lv, h in headings if lv < level] + [(level, heading)]
            blocks.append(Block(heading, headings=tuple(h for _, h in headings), is_heading=True))
            title = title or (heading if level == 1 else None)
        else:
            lines.append(_inline_markdown(line))
    flush()
    return ParsedDocument(title=title or PurePath(name).stem, blocks=blocks)


def _inline_markdown(line: str) -> str:
    # Keep the words a reader sees; drop link targets and image URLs.
    return _MD_LINK.sub(r"\1", _MD_IMAGE.sub(r"\1", line))


# --- HTML ---------------------------------------------------------------------------------

_DROP_TAGS = ["script", "style", "noscript", "template", "svg", "canvas", "iframe", "object",
              "nav", "header", "footer", "aside", "form", "button", "select", "input", "head"]
_BOILERPLATE = re.compile(
    r"(^|[-_ ])(nav|navbar|menu|sidebar|footer|breadcrumbs?|cookie|banner|share|social|"
    r"related|comments?|advert|ads|popup|subscribe)($|[-_ ])", re.I)
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd",
               "pre", "blockquote", "table", "tr", "td", "th", "caption", "figure",
               "figcaption", "br", "hr", "address", "details", "summary", "body"} | set(_HEADING_TAGS)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def read_html(data: bytes, name: str) -> ParsedDocument:
    """The page's main text: trafilatura's article extraction (measured against Mozilla
    Readability's expected outputs in docs/BENCHMARKS.md), with headings kept; our own
    rules where it finds no article (a short page, a fragment)."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    declared = _META_CHARSET.search(data[:4096])
    text = _decode_text_file(data, name, declared.group(1).decode("ascii") if declared else None)
    with warnings.catch_warnings():
        # a file named .html is read as HTML even when it is XML (XHTML, a saved feed): its text
        # is what we want either way, and the warning would only reach the server's terminal
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(text, "lxml")
    title_tag = soup.find("title")
    title = _collapse(title_tag.get_text()) if title_tag else ""
    blocks = _main_text(text) or _rule_based_blocks(soup)
    if not title:
        title = next((b.text for b in blocks if b.is_heading), PurePath(name).stem)
    return ParsedDocument(title=title, blocks=blocks)


_TRAFILATURA_TEXT = {"p", "item", "code", "quote"}


def _main_text(html: str) -> list[Block]:
    """Blocks of the article trafilatura finds in ``html``; empty when it finds none."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(html, output_format="xml", include_comments=False, include_tables=True,
                              favor_precision=True, include_images=False, deduplicate=False)
    if not xml:
        return []
    main = etree.fromstring(xml.encode("utf-8")).find("main")
    if main is None:
        return []
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []

    def text_of(element) -> str:
        for br in element.iter("lb"):
            br.tail = "\n" + (br.tail or "")
        return "\n".join(_collapse(line) for line in "".join(element.itertext()).split("\n")).strip()

    def walk(element) -> None:
        nonlocal headings
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "head":
                heading = _collapse("".join(child.itertext()))
                if heading:
                    level = int((child.get("rend") or "h2").lstrip("h") or 2)
                    headings = [(lv, h) for lv, h in headings if lv < level] + [(level, heading)]
                    blocks.append(Block(heading, headings=tuple(h for _, h in headings), is_heading=True))
            elif child.tag == "table":
                rows = [" | ".join(_collapse("".join(c.itertext())) for c in row.iter("cell")) + " |"
                        for row in child.iter("row")]
                table = "\n".join(r for r in rows if r.strip(" |"))
                if table:
                    blocks.append(Block(table, headings=tuple(h for _, h in headings)))
            elif child.tag in _TRAFILATURA_TEXT and not any(
                    isinstance(c.tag, str) and c.tag in ("p", "list", "table", "head") for c in child):
                paragraph = text_of(child)
                if paragraph:
                    blocks.append(Block(paragraph, headings=tuple(h for _, h in headings)))
            else:  # list, div, a quote holding paragraphs: their parts are the blocks
                walk(child)

    walk(main)
    return blocks


def _rule_based_blocks(soup) -> list[Block]:
    """Our own main-text rules: drop scripts, navigation and boilerplate by tag and class,
    then keep the <article> (or <main>, or the body)."""
    from bs4 import Comment, NavigableString, Tag

    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        marker = " ".join([tag.get("id") or "", *(tag.get("class") or []), tag.get("role") or ""])
        if tag.name not in ("body", "html", "main", "article") and _BOILERPLATE.search(marker):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    if len(_collapse(root.get_text(" "))) < 200 and soup.body is not None:
        root = soup.body  # an <article> that is only a teaser: take the whole page

    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    inline: list[str] = []

    def flush() -> None:
        paragraph = _collapse("".join(inline))
        inline.clear()
        if paragraph:
            blocks.append(Block(paragraph, headings=tuple(h for _, h in headings)))

    def walk(node) -> None:
        nonlocal headings
        for child in node.children:
            if isinstance(child, NavigableString):
                inline.append(str(child))
            elif isinstance(child, Tag):
                if child.name in _HEADING_TAGS:
                    flush()
                    heading = _collapse(child.get_text(" "))
                    if heading:
                        level = _HEADING_TAGS[child.name]
                        headings = [(lv, h) for lv, h in headings if lv < level] + [(level, heading)]
                        blocks.append(Block(heading, headings=tuple(h for _, h in headings),
                                            is_heading=True))
                elif child.name in ("td", "th"):
                    inline.append(" " + _collapse(child.get_text(" ")) + " |")
                elif child.name in _BLOCK_TAGS:
                    flush()
                    walk(child)
                    flush()
                else:
                    walk(child)

    walk(root)
    flush()
    return blocks


# --- PDF ----------------------------------------------------------------------------------


def read_pdf(data: bytes, name: str) -> ParsedDocument:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise UnreadableFile(
                f"{name}: is encrypted; remove the password and upload it again",
                code="file_encrypted", name=name) from None
        raise UnreadableFile(f"{name}: is damaged or not a PDF ({exc})", code="file_damaged",
                             name=name) from None
    try:
        title = (pdf.get_metadata_dict(skip_empty=True).get("Title") or "").strip()
        blocks = []
        for number in range(len(pdf)):
            page = pdf[number]
            textpage = page.get_textpage()
            text = _normalise(textpage.get_text_bounded())
            textpage.close()
            page.close()
            if text.strip():
                blocks.append(Block(text, page=number + 1))
        pages = len(pdf)
    finally:
        pdf.close()
    if pages and not blocks:
        raise UnreadableFile(
            f"{name}: has no text layer (it looks scanned); run OCR on it and upload the result",
            code="file_scanned", name=name)
    return ParsedDocument(title=title or PurePath(name).stem, blocks=blocks, pages=pages)


# --- DOCX ---------------------------------------------------------------------------------

# A DOCX is a ZIP; refuse ones that would expand far beyond any real document.
_DOCX_MAX_EXPANDED = 512 * 1024 * 1024
_DOCX_MAX_RATIO = 200


def read_docx(data: bytes, name: str) -> ParsedDocument:
    import docx
    from docx.document import Document as _Doc  # noqa: F401  (type only)
    from docx.text.paragraph import Paragraph

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile(f"{name}: is damaged or not a DOCX file (not a ZIP archive)",
                             code="file_damaged", name=name) from None
    with archive:
        infos = archive.infolist()
        expanded = sum(i.file_size for i in infos)
        if expanded > _DOCX_MAX_EXPANDED or expanded > _DOCX_MAX_RATIO * max(len(data), 1) + 10**7:
            raise UnreadableFile(f"{name}: expands to {expanded // 2**20} MB; refusing a "
                                 "decompression bomb", code="file_bomb", name=name)
        names = {i.filename for i in infos}
        if "EncryptedPackage" in names or "word/document.xml" not in names:
            raise UnreadableFile(f"{name}: is encrypted or not a Word document", code="file_encrypted",
                                 name=name)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for broken packages
        raise UnreadableFile(f"{name}: is damaged ({type(exc).__name__}: {exc})", code="file_damaged",
                             name=name) from None

    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    title = (document.core_properties.title or "").strip()
    body = document.element.body
    for child in body.iterchildren():
        if not isinstance(child.tag, str):  # XML comments and processing instructions
            continue
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text.strip()
            if not text:
                continue
            level = _docx_heading_level(paragraph)
            if level:
                headings = [(lv, h) for lv, h in headings if lv < level] + [(level, text)]
                blocks.append(Block(text, headings=tuple(h for _, h in headings), is_heading=True))
                title = title or text
            else:
                blocks.append(Block(text, headings=tuple(h for _, h in headings)))
        elif tag == "tbl":
            table = _docx_table_text(child)
            if table:
                blocks.append(Block(table, headings=tuple(h for _, h in headings)))
    blocks += [Block(text) for text in _docx_headers_and_footers(document)]
    return ParsedDocument(title=title or PurePath(name).stem, blocks=blocks)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_table_text(tbl) -> str:
    """A table's rows as "cell | cell" lines, read from the XML cell by cell. python-docx's
    ``row.cells`` resolves merges through the grid and raises on a ragged one (a row shorter
    than the grid under a vertical merge) that Word opens; here a merge's continuation cell is
    simply empty, and a merged value is not repeated."""
    rows = []
    for tr in tbl.xpath("./w:tr"):
        cells: list[str] = []
        for tc in tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc"):
            value = _collapse(" ".join("".join(t.text or "" for t in p.iter(_W + "t")) for p in tc.iter(_W + "p")))
            if value and (not cells or cells[-1] != value):
                cells.append(value)
        rows.append(" | ".join(cells))
    return "\n".join(r for r in rows if r.strip(" |"))


def _docx_headers_and_footers(document) -> list[str]:
    """The text of each distinct header and footer (a letterhead, a confidentiality line, who
    wrote it), once however many sections repeat it; page numbers alone are left out."""
    seen: list[str] = []
    for section in document.sections:
        for part in ("header", "first_page_header", "even_page_header",
                     "footer", "first_page_footer", "even_page_footer"):
            try:
                story = getattr(section, part)
                if story.is_linked_to_previous:  # no own definition: the previous one's
                    continue
                element = story._element
            except (KeyError, ValueError, AttributeError):  # a header part missing from the package
                continue
            lines = [_collapse("".join(t.text or "" for t in p.iter(_W + "t"))) for p in element.iter(_W + "p")]
            text = "\n".join(line for line in lines if line and not re.fullmatch(r"[\d\s/|.-]*", line))
            if text and text not in seen:
                seen.append(text)
    return seen


def _docx_heading_level(paragraph) -> int:
    try:
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError):
        style = ""
    if style == "Title":
        return 1
    match = re.match(r"Heading\s*(\d)", style)
    return int(match.group(1)) if match else 0


# --- shared -------------------------------------------------------------------------------


# PDFium turns a hyphen at a line end into \x02 and drops the line break ("algo\x02rithm"); a
# soft hyphen may still carry its break. The mark (and break) go, so the word is whole again.
# PDFium decides what is hyphenation: "well-known" broken after "well-" joins too.
_PDFIUM_HYPHEN = re.compile(r"[\x02\u00ad]\n?")
# A printed hyphen at a line end between lower-case letters is hyphenation too ("algo-\nrithm"):
# joined without it, as PyMuPDF's TEXT_DEHYPHENATE does. A compound split at its own hyphen
# ("well-\nknown") loses it; rarer, and the words still match in search.
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n[ \t]*(?=[a-zà-ÿ])")
# Control characters (C0 and C1, but tab and newline) and zero-width marks that break words.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u200b\ufeff\ufffe\uffff]")


def _normalise(text: str) -> str:
    """Newlines as \\n, hyphenated line breaks joined, control characters gone.

    >>> _normalise("an algo\\x02\\r\\nrithm in poly-\\nnomial time\\x07 \\n")
    'an algorithm in polynomial time\\n'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = _PDFIUM_HYPHEN.sub("", text)
    text = _LINE_END_HYPHEN.sub("", text)
    text = _CONTROL.sub("", text)
    return re.sub(r"[ \t\u00a0]+\n", "\n", text)


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub("", text)).strip()
