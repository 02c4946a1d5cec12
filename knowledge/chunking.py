"""Split a parsed document into heading- and sentence-aware chunks that map back to the source.

The document's text is the blocks joined by blank lines; each chunk is a slice of that text
(``char_start``/``char_end``), on one page, under one heading path. Chunks are packed from
whole sentences up to a token budget, with trailing sentences repeated as overlap. A sentence
longer than the budget is cut at a line break, clause mark or word boundary, never inside a
word or between two CJK characters of a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.readers import ParsedDocument
from textkit.scripts import count_tokens, token_spans

BLOCK_SEPARATOR = "\n\n"

# A sentence ends at terminal punctuation followed by space (Latin scripts), at CJK terminal
# punctuation (no space follows in Chinese/Japanese), or at a blank line.
_SENTENCE_END = re.compile(
    r"[.!?…]+[\"'”’)\]]*(?=\s|$)|[。．｡！？；!?]+[”’」』）)\"']*|\n[ \t]*\n")
_SOFT_BREAK = re.compile(r"[\n,;:，、；：]")


@dataclass(frozen=True)
class ChunkSpan:
    text: str
    char_start: int
    char_end: int
    page: int | None
    headings: tuple[str, ...]
    tokens: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    page: int | None
    headings: tuple[str, ...]
    is_heading: bool


def document_text(doc: ParsedDocument) -> str:
    """The text that chunk spans index into: the blocks joined by blank lines."""
    return BLOCK_SEPARATOR.join(b.text for b in doc.blocks)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``, whitespace trimmed.

    >>> t = "One. Two!  三。四"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['One.', 'Two!', '三。', '四']
    """
    spans = []
    position = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((position, match.end()))
        position = match.end()
    spans.append((position, len(text)))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
    return trimmed


def _cut_long(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces of at most ``budget`` tokens at the best boundaries."""
    spans = token_spans(text[start:end])
    pieces = []
    first = 0
    while len(spans) - first > budget:
        window = spans[first : first + budget]
        cut = budget  # default: after the budget-th token, a token boundary
        for i in range(len(window) - 1, budget // 2, -1):
            gap = text[start + window[i - 1][1] : start + window[i][0]]
            token = text[start + window[i - 1][0] : start + window[i - 1][1]]
            if "\n" in gap or _SOFT_BREAK.fullmatch(token):
                cut = i
                break
        pieces.append((start + spans[first][0], start + spans[first + cut - 1][1]))
        first += cut
    if first < len(spans):
        pieces.append((start + spans[first][0], start + spans[-1][1]))
    return pieces


def chunk_document(doc: ParsedDocument, *, max_tokens: int = 200,
                   overlap_tokens: int = 40) -> list[ChunkSpan]:
    """Chunks of ``doc`` of at most ``max_tokens`` estimated tokens, sharing ``overlap_tokens``.

    A new chunk starts at every heading and page change; overlap is only carried between
    chunks of the same section and page.
    """
    if not 0 <= overlap_tokens < max_tokens:
        raise ValueError(f"`overlap_tokens` must be in [0, {max_tokens}) but is {overlap_tokens}")
    text = document_text(doc)
    units: list[_Unit] = []
    offset = 0
    for block in doc.blocks:
        for s, e in split_sentences(block.text):
            s, e = s + offset, e + offset
            n = count_tokens(text[s:e])
            if n == 0:
                continue
            pieces = [(s, e)] if n <= max_tokens else _cut_long(text, s, e, max_tokens)
            for ps, pe in pieces:
                units.append(_Unit(ps, pe, n if len(pieces) == 1 else count_tokens(text[ps:pe]),
                                   block.page, block.headings, block.is_heading))
        offset += len(block.text) + len(BLOCK_SEPARATOR)

    chunks: list[ChunkSpan] = []
    current: list[_Unit] = []

    def emit() -> None:
        body = [u for u in current if not u.is_heading] or current
        first, last = current[0], current[-1]
        chunks.append(ChunkSpan(text[first.start : last.end], first.start, last.end,
                                body[0].page, body[0].headings, sum(u.tokens for u in current)))

    for unit in units:
        if current:
            if all(u.is_heading for u in current):
                same_section = True  # headings stay with the text they introduce
            else:
                same_section = (not unit.is_heading and unit.page == current[-1].page
                                and unit.headings == current[-1].headings)
            size = sum(u.tokens for u in current)
            if not same_section:
                emit()
                current = []
            elif size + unit.tokens > max_tokens:
                emit()
                carried: list[_Unit] = []
                for previous in reversed(current):
                    if previous.is_heading or sum(u.tokens for u in carried) + previous.tokens > overlap_tokens:
                        break
                    carried.insert(0, previous)
                if sum(u.tokens for u in carried) + unit.tokens > max_tokens:
                    carried = []
                current = carried
        current.append(unit)
    if current:
        emit()
    return chunks
