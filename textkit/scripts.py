"""Writing systems and token counts, shared by the knowledge base and the studio.

Chinese, Japanese and Korean are not separated by spaces, so "a word" there is a run of
characters; these helpers let the rest of the code treat them without a dictionary.
"""

from __future__ import annotations

import re

# Han (incl. extension A and compatibility), kana, Hangul syllables, CJK punctuation excluded.
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
# One estimated token: a CJK character, a run of other letters/digits, or one punctuation mark.
_TOKEN = re.compile(f"[{CJK_CLASS}]|[^\\W_{CJK_CLASS}]+|[^\\w\\s]")


def count_tokens(text: str) -> int:
    """Estimate model tokens without loading a tokenizer.

    Counts each CJK character, each word and each punctuation mark as one token, which is
    close to what a WordPiece/BPE vocabulary produces for ordinary prose (it under-counts
    rare long words a little).

    >>> count_tokens("Hello, world!") , count_tokens("你好世界")
    (4, 4)
    """
    return len(_TOKEN.findall(text))


def token_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the estimated tokens of ``text``, in order."""
    return [m.span() for m in _TOKEN.finditer(text)]


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among the letters of ``text`` (0.0 for empty text)."""
    letters = sum(1 for ch in text if ch.isalpha())
    if not letters:
        return 0.0
    return len(CJK_CHAR.findall(text)) / letters


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a CJK run; a single character stays as it is.

    >>> cjk_bigrams("北京大学")
    ['北京', '京大', '大学']
    """
    if len(run) < 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]
