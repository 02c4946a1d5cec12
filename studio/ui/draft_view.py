"""A draft as the page shows it: sentences marked by what the check found, citations that open
their passage.

Each ``[n]`` is a button that opens (HTML ``popover``, no script) the whole passage with the
supporting words highlighted, under the document's name, page and heading; a partial or
unsupported sentence is highlighted with a tooltip saying what is missing. Everything that
comes from a model or a document is escaped: the draft can carry no live HTML.
"""

from __future__ import annotations

import html
import re

from studio.grounding import MARKER

STYLE = """<style>
.ink-draft{line-height:1.6;font-size:1rem}
.ink-draft h1{font-size:1.5rem;margin:.4em 0}.ink-draft h2{font-size:1.2rem;margin:.8em 0 .3em}
.ink-draft .ink-partial{background:#fff3c4;border-bottom:2px dotted #c90;cursor:help}
.ink-draft .ink-unsupported{background:#ffd9d9;border-bottom:2px solid #c33;cursor:help}
.ink-cite{border:none;background:none;color:#2563eb;cursor:pointer;padding:0 1px;font-size:.85em;vertical-align:super}
.ink-pop{max-width:46rem;padding:1rem 1.2rem;border:1px solid #999;border-radius:8px;line-height:1.55}
.ink-pop .ink-where{font-weight:600;margin-bottom:.5em}.ink-pop mark{background:#c8f7c5;padding:0 2px}
.ink-summary{color:#444;font-size:.9rem;margin-top:.6em}.ink-summary.ink-warn{color:#a11}
</style>"""


# Inline, so the page's own button styles cannot turn a citation into a big grey button.
_CITE_STYLE = ("all:unset;color:#2563eb;cursor:pointer;font-size:.8em;vertical-align:super;"
               "padding:0 1px;line-height:1")


def _location(source: dict) -> str:
    where = source.get("document", "")
    if source.get("page"):
        where += f", p. {source['page']}"
    if source.get("headings"):
        where += f" · {source['headings']}"
    return where


def _popover(key: str, n: int, source: dict | None, finding: dict) -> str:
    if source is None:
        return ""
    text = source.get("text", "")
    start, end = finding.get("support_start", 0), finding.get("support_end", 0)
    body = (html.escape(text[:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>"
            + html.escape(text[end:])) if end > start else html.escape(text)
    return (f'<div id="{key}" popover class="ink-pop" data-testid="citation-passage">'
            f'<div class="ink-where">[{n}] {html.escape(_location(source))}</div>'
            f'<div class="ink-text">{body.replace(chr(10), "<br>")}</div></div>')


def _inline(line: str, offset: int, findings: list[dict], sources: dict, popovers: list[str],
            prefix: str, describe) -> str:
    """One line of the draft, its sentences wrapped by status and its markers made buttons."""
    pieces, position = [], 0
    line_end = offset + len(line)
    for index, f in enumerate(findings):
        if not (offset <= f["start"] < line_end):
            continue
        start, end = f["start"] - offset, min(f["end"], line_end) - offset
        pieces.append(_plain(line[position:start]))
        sentence = html.escape(line[start:end])
        status = f["status"]
        if status in ("partial", "unsupported"):
            sentence = (f'<span class="ink-{status}" data-status="{status}" '
                        f'title="{html.escape(describe(f), quote=True)}">{sentence}</span>')
        pieces.append(sentence)
        position = end
        marker = re.match(r"\s?\[(\d+)\]", line[position:])
        if marker and f.get("passage") == int(marker.group(1)):
            key = f"{prefix}-{index}"
            n = int(marker.group(1))
            popovers.append(_popover(key, n, sources.get(n), f))
            pieces.append(f' <button class="ink-cite" popovertarget="{key}" data-testid="citation" style="{_CITE_STYLE}" '
                          f'title="{html.escape(_location(sources.get(n, {})), quote=True)}">[{n}]</button>')
            position += marker.end()
    pieces.append(_plain(line[position:]))
    return "".join(pieces)


def _plain(text: str) -> str:
    return html.escape(MARKER.sub("", text))


def render_draft(text: str, findings: list[dict], sources: list[dict], *, summary: str = "",
                 warning: bool = False, prefix: str = "ink", describe=None) -> str:
    """HTML for a checked draft: headings, lists and paragraphs from its Markdown lines.
    ``describe(finding)`` words a flagged sentence's tooltip (default: the check's message)."""
    describe = describe or (lambda f: f.get("message", ""))
    by_number = {s["n"]: s for s in sources}
    blocks, popovers, paragraph, items = [], [], [], []
    offset = 0

    def flush():
        if paragraph:
            blocks.append("<p>" + " ".join(paragraph) + "</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for line in text.split("\n"):
        heading = re.match(r"^(#{1,6})\s+", line)
        bullet = re.match(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+", line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = min(len(heading.group(1)), 3)
            body = _inline(line[heading.end():], offset + heading.end(), findings, by_number, popovers, prefix, describe)
            blocks.append(f"<h{level}>{body}</h{level}>")
        elif bullet:
            if paragraph:
                flush()
            items.append(_inline(line[bullet.end():], offset + bullet.end(), findings, by_number, popovers, prefix, describe))
        else:
            if items:
                flush()
            paragraph.append(_inline(line, offset, findings, by_number, popovers, prefix, describe))
        offset += len(line) + 1
    flush()
    note = ""
    if summary:
        note = (f'<div class="ink-summary{" ink-warn" if warning else ""}" data-testid="draft-summary">'
                f"{html.escape(summary)}</div>")
    return STYLE + '<div class="ink-draft" data-testid="draft">' + "".join(blocks) + note + "".join(popovers) + "</div>"


def render_streaming(text: str) -> str:
    """The draft while it is being written: its lines, escaped, before the check marks them."""
    return render_draft(text, [], [])
