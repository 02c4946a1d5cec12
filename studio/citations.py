"""Attribution: make every supported paragraph of a draft point at the passage it rests on.

Small models cite unreliably, so the model's ``[n]`` markers are checked, not trusted:
markers naming no passage are removed, markers whose passage does not resemble the paragraph
are dropped, and a paragraph left without a marker gets its most similar passage when the
similarity clears a threshold (else it stays unmarked, honestly unsupported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from knowledge.search import Passage

MARKER = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_PARAGRAPH_BREAK = re.compile(r"(\n\s*\n)")
# Cosine similarity (all-MiniLM-L6-v2) above which a passage counts as supporting a paragraph.
# Paragraphs written from a passage score roughly 0.5-0.9 against it, unrelated text below 0.3.
SUPPORT_THRESHOLD = 0.45
# A marker the model wrote is kept if its passage is at least this similar.
KEEP_THRESHOLD = 0.35


@dataclass(frozen=True)
class Attribution:
    text: str  # the draft with checked and added [n] markers
    cited: tuple[int, ...]  # passage numbers (1-based) the draft cites
    uncited: tuple[int, ...]  # retrieved, in the prompt, but not cited
    added: int  # markers added by similarity
    removed: int  # markers removed (no such passage, or not supported)


def _is_prose(paragraph: str) -> bool:
    stripped = paragraph.strip()
    if not stripped or stripped.startswith("#") or stripped.lower().startswith("subject:"):
        return False
    return len(re.findall(r"\w+", stripped)) >= 6 or len(stripped) >= 20


def attribute(text: str, passages: Sequence[Passage],
              embed: Callable[[list[str]], np.ndarray], *,
              threshold: float = SUPPORT_THRESHOLD) -> Attribution:
    """Check and complete the ``[n]`` markers of ``text`` against ``passages`` (numbered 1..)."""
    pieces = _PARAGRAPH_BREAK.split(text)
    paragraphs = [i for i in range(0, len(pieces), 2) if _is_prose(MARKER.sub("", pieces[i]))]
    removed = added = 0
    if passages and paragraphs:
        plain = [MARKER.sub("", pieces[i]).strip() for i in paragraphs]
        vectors = embed(plain + [p.text for p in passages])
        similarity = vectors[: len(plain)] @ vectors[len(plain):].T
    for row, index in enumerate(paragraphs):
        paragraph = pieces[index]
        kept: list[int] = []
        for match in MARKER.finditer(paragraph):
            for number in (int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))):
                valid = 1 <= number <= len(passages) and similarity[row, number - 1] >= KEEP_THRESHOLD
                if valid and number not in kept:
                    kept.append(number)
                else:
                    removed += 1
        body = MARKER.sub("", paragraph).rstrip()
        if not kept and passages:
            best = int(np.argmax(similarity[row]))
            if similarity[row, best] >= threshold:
                kept.append(best + 1)
                added += 1
        trailing = paragraph[len(paragraph.rstrip()):]
        pieces[index] = _place(body, kept) + trailing
    # markers in headings and other non-prose lines are dropped if they name no passage
    for index in range(0, len(pieces), 2):
        if index not in paragraphs:
            def check(match):
                nonlocal removed
                numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]
                if all(1 <= n <= len(passages) for n in numbers):
                    return match.group()
                removed += 1
                return ""
            pieces[index] = MARKER.sub(check, pieces[index])
    final = "".join(pieces)
    cited = sorted({int(n) for m in MARKER.finditer(final)
                    for n in re.split(r"\s*[,;]\s*", m.group(1))})
    uncited = [n for n in range(1, len(passages) + 1) if n not in cited]
    return Attribution(final, tuple(cited), tuple(uncited), added, removed)


def _place(body: str, numbers: list[int]) -> str:
    """Put markers at the end of the paragraph, before nothing but whitespace."""
    if not numbers:
        return body
    return body + " " + "".join(f"[{n}]" for n in numbers)
