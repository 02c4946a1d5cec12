""""Illustrate this": turn a draft, a selected passage or a source passage into an image prompt.

Image models of the Stable Diffusion family read English through a CLIP text encoder, so the
prompt sent to them is always English: the text model is asked to describe the picture in
English whatever the language of the text, CJK characters left in its answer are dropped, and
style words (from the writer's style notes in the knowledge base) come from a bilingual table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textkit.scripts import CJK_CHAR, cjk_ratio
from studio.text_generation import GenerationSettings, TextGenerator
from studio.understanding import WriteRequest, understand

# Style vocabulary a writer's style notes may use, with the English an image model understands.
STYLE_TERMS = {
    "watercolor": "watercolor", "watercolour": "watercolor", "水彩": "watercolor",
    "ink wash": "ink wash painting", "水墨": "ink wash painting", "国画": "traditional Chinese painting",
    "oil painting": "oil painting", "油画": "oil painting", "pencil sketch": "pencil sketch",
    "素描": "pencil sketch", "line art": "line art", "线描": "line art",
    "flat illustration": "flat illustration", "扁平": "flat illustration",
    "minimalist": "minimalist", "minimal": "minimalist", "极简": "minimalist", "简约": "minimalist",
    "photorealistic": "photorealistic", "photographic": "photographic", "写实": "photorealistic",
    "摄影": "photographic", "vintage": "vintage", "复古": "vintage", "retro": "retro",
    "pastel": "pastel colors", "柔和": "soft pastel colors", "muted": "muted palette",
    "低饱和": "muted palette", "vibrant": "vibrant colors", "鲜艳": "vibrant colors",
    "monochrome": "monochrome", "黑白": "black and white", "black and white": "black and white",
    "cinematic": "cinematic lighting", "电影感": "cinematic lighting", "isometric": "isometric",
    "3d render": "3D render", "三维": "3D render", "anime": "anime style", "动漫": "anime style",
    "woodcut": "woodcut print", "版画": "woodcut print", "paper cut": "paper cut art", "剪纸": "paper cut art",
}
STYLE_QUERY = "style guide visual style illustration style colours 风格 插图风格 视觉风格"
_INSTRUCTION = ("Describe one illustration for the text below, in English, in a single sentence "
                "of at most 30 words: the main subject, the setting and the mood. Write only the "
                "description.")


@dataclass(frozen=True)
class DerivedPrompt:
    prompt: str  # what goes to the image model (English)
    subject: str  # the text model's description
    style: tuple[str, ...]  # style words found in the writer's notes
    source_language: str  # "en" | "zh"


def style_terms(texts: list[str]) -> tuple[str, ...]:
    """English style words named in ``texts``, in the order first met, without repeats.

    >>> style_terms(["我们的插图采用水彩风格，色调柔和。", "Keep it minimalist."])
    ('watercolor', 'soft pastel colors', 'minimalist')
    """
    found: dict[str, tuple[int, int]] = {}
    for number, text in enumerate(texts):
        lowered = text.lower()
        for term, english in STYLE_TERMS.items():
            position = lowered.find(term)
            if position >= 0:
                found[english] = min(found.get(english, (number, position)), (number, position))
    return tuple(sorted(found, key=found.get))


def clean_description(text: str) -> str:
    """The first sentence of the model's answer, English only, without quotes or labels."""
    text = re.sub(r"[\"“”]", "", CJK_CHAR.sub(" ", text))
    text = re.sub(r"^\s*(?:description|illustration|prompt)\s*:\s*", "", text.strip(), flags=re.I)
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]
    first = re.sub(r"\s+", " ", first).strip(" \"'“”‘’*-")
    return " ".join(first.split()[:40])


def derive_image_prompt(text: str, *, generator: TextGenerator, style_notes: list[str],
                        seed: int = 0) -> DerivedPrompt:
    """Ask the text model for an English picture description of ``text``, then add style words."""
    if not text.strip():
        raise ValueError("`text` must not be empty")
    brief = understand(WriteRequest(prompt=text[:300], source_text=text))
    passage = " ".join(text.split())[:1500]
    messages = [{"role": "system", "content": "You write short prompts for an image generator."},
                {"role": "user", "content": f"{_INSTRUCTION}\n\nText:\n<text>\n{passage}\n</text>"}]
    answer = "".join(generator.stream(messages, GenerationSettings(
        max_new_tokens=60, temperature=0.0, repetition_penalty=1.2, seed=seed)))
    subject = clean_description(answer)
    if len(subject.split()) < 3:
        # The model gave nothing usable: fall back to the English keywords of the text.
        words = [k for k in brief.keywords if not CJK_CHAR.search(k)]
        subject = "an illustration of " + (" ".join(words[:6]) or "the scene described")
    styles = style_terms(style_notes)
    prompt = ", ".join([subject.rstrip("."), *styles]) if styles else subject.rstrip(".")
    return DerivedPrompt(prompt=prompt, subject=subject, style=styles,
                         source_language="zh" if cjk_ratio(text) > 0.3 else "en")
