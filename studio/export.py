"""Exports of a stored draft for use outside Inkstone."""

from __future__ import annotations

import re
from dataclasses import replace

from studio.history import GenerationRecord


def citation_quotes(record: GenerationRecord) -> list[str]:
    """For each ``[n]`` of the draft, in order, the words it rests on: the supporting span the
    sentence check found, or (for records made before the check) the passage's opening."""
    findings = [f for f in (record.checks or {}).get("findings", []) if f.get("passage")]
    texts = {n: p.text for n, p in enumerate(record.passages, start=1)}
    markers = [int(m.group(1)) for m in re.finditer(_MARKER, record.output)]
    if len(findings) == len(markers) and all(f["passage"] == n for f, n in zip(findings, markers)):
        return [" ".join(f["support"].split()) for f in findings]
    return [" ".join(texts.get(n, "").split())[:300] for n in markers]


def _where(source) -> str:
    return source.document_name + (f", p. {source.page}" if source.page else "")


def draft_markdown(record: GenerationRecord, images: list = (), *, flagged: bool = False) -> str:
    """The draft as Markdown: each ``[n]`` becomes a footnote ``[^k]`` quoting the words it rests
    on, with document and page; the draft's illustrations (links relative to the Markdown
    file) follow the text; with ``flagged``, an
    appendix lists the sentences the check found partly or not supported.

    >>> from datetime import datetime
    >>> from knowledge import Passage
    >>> tides = Passage(1, 1, "a.pdf", "a", "notes", "Tides rise. Seas fall.", 2, 0, 22, "", 1.0)
    >>> r = GenerationRecord(1, "text", None, "done", "write", {}, None, [tides], [], "m", "b", {}, 1,
    ...     "Tides rise. [1]", [1], {}, None, datetime.now())
    >>> print(draft_markdown(r))
    Tides rise.[^1]
    <BLANKLINE>
    [^1]: a.pdf, p. 2: “Tides rise. Seas fall.”
    <BLANKLINE>
    """
    sources = dict(enumerate(record.passages, start=1))
    quotes = iter(citation_quotes(record))
    notes: list[str] = []

    def footnote(match) -> str:
        quote = next(quotes, "")
        source = sources.get(int(match.group(1)))
        if source is None:
            return ""
        notes.append(f"[^{len(notes) + 1}]: {_where(source)}: “{quote}”")
        return f"[^{len(notes)}]"

    text = re.sub(r"\s?" + _MARKER, footnote, record.output.rstrip())
    lines = [text, ""]
    for image in images:
        lines += [f"![Illustration]({image})", ""]
    if notes:
        lines += notes + [""]
    problems = flagged_sentences(record) if flagged else []
    if problems:
        lines += ["## Sentences to check", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(lines)


def flagged_sentences(record: GenerationRecord) -> list[str]:
    """The sentences the check found partly or not supported, each with what is missing."""
    return [f"“{f['text']}”: {f['message']}" for f in (record.checks or {}).get("findings", [])
            if f["status"] in ("partial", "unsupported")]


_FOOTNOTES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
    '</w:footnotes>')
_MARKER = r"\[(\d+)\]"
# Characters XML 1.0 cannot hold (C0 controls other than tab/newline, lone surrogates, U+FFFE/F);
# model output and document text can contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters a DOCX (XML) file cannot store.

    >>> xml_safe("tide" + chr(0) + " pools" + chr(27))
    'tide pools'
    """
    return _NOT_XML.sub("", text)


def draft_docx(record: GenerationRecord, path, images: list = (), *, flagged: bool = False) -> None:
    """Write the draft as DOCX: each ``[n]`` becomes a real Word footnote naming the source
    (document, page, and the words it rests on); ``images`` (PNG paths) are embedded after the
    text; with ``flagged``, an appendix lists the sentences to check.

    python-docx has no footnote API, so the footnotes part is added here as Word defines it
    (word/footnotes.xml, related from the document, with the two separator notes Word expects).
    """
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.shared import Inches
    from lxml import etree

    document = docx.Document()
    footnotes = parse_xml(_FOOTNOTES_XML.encode())
    sources = {n: replace(p, document_name=xml_safe(p.document_name), text=xml_safe(p.text))
               for n, p in enumerate(record.passages, start=1)}
    quotes = iter(citation_quotes(record))
    next_id = 1
    for block in re.split(r"\n\s*\n", xml_safe(record.output).strip()):
        text = block.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", text)
        if heading:
            document.add_heading(re.sub(_MARKER, "", heading.group(2)).strip(),
                                 level=min(len(heading.group(1)), 4))
            continue
        paragraph = document.add_paragraph()
        for piece in re.split(r"(\[\d+\])", text):
            marker = re.fullmatch(_MARKER, piece)
            if not piece:
                continue
            if not marker:
                paragraph.add_run(piece)
                continue
            quote = xml_safe(next(quotes, ""))
            source = sources.get(int(marker.group(1)))
            if source is None:
                continue
            where = _where(source)
            note = parse_xml(
                f'<w:footnote xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                f'w:id="{next_id}"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                f'<w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r></w:p></w:footnote>')
            note_run = note[0].add_r()
            note_run.text = f"{where}: “{quote}”"
            footnotes.append(note)
            run = paragraph.add_run()
            properties = run._r.get_or_add_rPr()
            properties.append(parse_xml(
                '<w:vertAlign xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                'w:val="superscript"/>'))
            reference = run._r.makeelement(qn("w:footnoteReference"), {qn("w:id"): str(next_id)})
            run._r.append(reference)
            next_id += 1
    for image in images:
        document.add_picture(str(image), width=Inches(5))
    problems = flagged_sentences(record) if flagged else []
    if problems:
        document.add_heading("Sentences to check", level=2)
        for problem in problems:
            document.add_paragraph(xml_safe(problem), style="List Bullet")
    blob = etree.tostring(footnotes, xml_declaration=True, encoding="UTF-8", standalone=True)
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                blob, document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)
    document.save(str(path))
