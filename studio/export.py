"""Exports of a stored draft for use outside Inkstone."""

from __future__ import annotations

from studio.history import GenerationRecord


def draft_markdown(record: GenerationRecord) -> str:
    """The draft as Markdown with its cited sources listed under it.

    >>> from datetime import datetime
    >>> r = GenerationRecord(1, "text", None, "done", "write", {}, {}, [{"n": 1, "document": "a.pdf",
    ...     "page": 2, "text": "x"}], [], "m", "b", {}, 1, "Tides rise. [1]", [1], {}, None, datetime.now())
    >>> print(draft_markdown(r))
    Tides rise. [1]
    <BLANKLINE>
    ## Sources
    <BLANKLINE>
    1. a.pdf, p. 2
    <BLANKLINE>
    """
    lines = [record.output.rstrip(), ""]
    cited = [s for s in record.passages if s["n"] in record.cited]
    if cited:
        lines += ["## Sources", ""]
        lines += [f"{s['n']}. {s['document']}" + (f", p. {s['page']}" if s.get("page") else "")
                  for s in cited]
        lines.append("")
    return "\n".join(lines)
