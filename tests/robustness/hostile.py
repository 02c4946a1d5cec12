"""Hostile files for the robustness suite, built in the test (nothing fetched or stored)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from documents import docx_bytes


def raw_pdf(objects: dict[int, bytes], root: int = 1) -> bytes:
    """A PDF from numbered object bodies, with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets.get(number, 0)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(out)


def pdf_flate_bomb(expanded_mb: int = 700) -> bytes:
    """One page whose content stream inflates to ``expanded_mb`` MB (about 1/1000 on disk)."""
    # Deflating 1.5 GB took 8 s a test. After a full flush the compressor starts afresh, so every
    # further megabyte compresses to the same bytes: deflate two, repeat the second, and end the
    # stream with the checksum of the whole (adler32 is cheap to run over it).
    block = b" " * (1 << 20)
    packer = zlib.compressobj(9)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(expanded_mb):
        checksum = zlib.adler32(block, checksum)
    stream = first + again * (expanded_mb - 1) + packer.flush()[:-4] + struct.pack(">I", checksum)
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        4: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    })


def pdf_circular_pages() -> bytes:
    """A page tree whose node lists itself as its own kid."""
    return raw_pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                    2: b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"})


def pdf_deeply_nested(depth: int = 20_000) -> bytes:
    """A page tree ``depth`` levels deep before its one page."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
    for level in range(depth):
        number = 2 + level
        objects[number] = b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (number + 1)
    objects[2 + depth] = b"<< /Type /Page /MediaBox [0 0 612 792] >>"
    return raw_pdf(objects)


def _replace_in_zip(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, content if item.filename == name else source.read(item))
    return buffer.getvalue()


def docx_entity_bomb(levels: int = 10) -> bytes:
    """A DOCX whose document.xml defines "billion laughs" entities (10**levels copies)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, levels))
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f'<w:body><w:p><w:r><w:t>&lol{levels - 1};</w:t></w:r></w:p></w:body></w:document>')
    return _replace_in_zip(docx_bytes([("p", "placeholder")]), "word/document.xml", xml.encode())


def docx_claiming(size: int = 2**30) -> bytes:
    """A small, valid-looking DOCX whose ZIP directory claims document.xml is ``size`` bytes."""
    data = bytearray(docx_bytes([("p", "A short note about herons.")]))
    name = b"word/document.xml"
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46: at + 46 + name_length]) == name:
            struct.pack_into("<I", data, at + 24, size)  # uncompressed size
        at += 4
    return bytes(data)
