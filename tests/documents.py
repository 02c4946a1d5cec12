"""Build real documents of every supported type inside tests (no fixtures from ../shared)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def pdf_bytes(pages: list[str], *, title: str | None = None, password: str | None = None,
              drawing_only: bool = False) -> bytes:
    """A real PDF with one page per string (Latin-1 text), optionally encrypted or text-less."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if drawing_only:
            pdf.rect(20, 20, 100, 60, style="F")  # a "scan": marks on the page, no text layer
        else:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def docx_bytes(blocks: list[tuple[str, str]], *, title: str | None = None,
               table: list[list[str]] | None = None) -> bytes:
    """A real DOCX: blocks are ("h1"|"h2"|"p", text); an optional table goes at the end."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bomb_docx(expanded_mb: int = 600) -> bytes:
    """A DOCX-shaped ZIP whose document.xml expands to ``expanded_mb`` MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            block = b"\0" * (1 << 20)
            for _ in range(expanded_mb):
                entry.write(block)
    return buffer.getvalue()


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path
