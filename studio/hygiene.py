"""Output hygiene for every strategy: prompt scaffolding never reaches a draft, and a draft
that echoes its prompt or is in the wrong language is caught.

Small models asked to rewrite a passage often answer with the prompt itself ("Tone:
positive. Length: about 168 words. Request: ..."), or wrap the answer in chatter ("Sure!
Here is the rewritten text:"). :func:`strip_scaffolding` removes both; :func:`echoes` measures
how much of an output repeats the prompt's instructions (not its sources: quoting a source is
the point), and :func:`language_of` says which language a text is in.
"""

from __future__ import annotations

import re

from textkit.scripts import CJK_CHAR, cjk_ratio

# Labels our prompts use; a line starting with one is scaffolding, never draft text.
SCAFFOLD_LABELS = ("task", "tone", "length", "language", "request", "sources?", "passage",
                   "instructions?", "system", "user", "assistant", "text to rewrite",
                   "sentence", "rewritten(?: sentence| text)?", "answer", "output", "title to open",
                   "covers")
_LABEL_LINE = re.compile(rf"^\s*(?:\*\*)?(?:{'|'.join(SCAFFOLD_LABELS)})(?:\*\*)?\s*[:：].*$", re.I | re.M)
_FENCE = re.compile(r"</?\s*(?:source|passage)\b[^>]*>|‹/?source[^›]*›?", re.I)
_FENCED_BLOCK = re.compile(r"<\s*(source|passage)\b[^>]*>.*?</\s*\1\s*>", re.I | re.S)
_CHATTER = re.compile(
    r"^\s*(?:sure|certainly|of course|okay|ok|absolutely|here(?:'s| is| are)|below is|i(?:'ve| have) "
    r"(?:rewritten|written|revised))\b[^\n]*?(?::|\n|[.!](?=\s))\s*", re.I)


def strip_scaffolding(text: str) -> str:
    """``text`` without prompt labels, source fences and "Sure! Here is ..." lead-ins.

    >>> strip_scaffolding("Sure! Here is the post:\\nTone: friendly.\\n<source n=1>Tides rise.</source>")
    'Tides rise.'
    """
    for _ in range(3):  # "Sure! Here is the post:" is two lead-ins
        text = _CHATTER.sub("", text, count=1)
    text = _LABEL_LINE.sub("", text)
    text = _FENCE.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def has_scaffolding(text: str) -> bool:
    """Whether ``text`` carries prompt labels or source fences (a sign it echoes its prompt)."""
    return bool(_LABEL_LINE.search(text) or _FENCE.search(text))


def instructions(messages: list[dict]) -> str:
    """What the prompt told the model, without the sources it quoted."""
    return "\n".join(_FENCED_BLOCK.sub(" ", m.get("content", "")) for m in messages
                     if m.get("role") in ("system", "user"))


def _grams(text: str, n: int) -> set[tuple]:
    tokens = [t.lower() for t in re.findall(rf"{CJK_CHAR.pattern}|[^\W_]+", text)]
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def echoes(output: str, prompt: str, *, n: int = 5) -> float:
    """Share of ``output``'s word ``n``-grams (CJK: character n-grams) that are in ``prompt``.

    >>> echoes("Write a short blog post about tides please", "Request: write a short blog post about tides")
    0.75
    """
    grams = _grams(output, n)
    return len(grams & _grams(prompt, n)) / len(grams) if grams else 0.0


def language_of(text: str) -> str:
    """``"zh"`` for mostly-Chinese text, ``"en"`` otherwise (empty text is ``"en"``)."""
    return "zh" if cjk_ratio(text) > 0.3 else "en"
