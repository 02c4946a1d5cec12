"""Helpers shared by the UI's tabs: safe rendering, the writer's studio, typed field values."""

from __future__ import annotations

import html
import math
import re

import gradio as gr

from textkit.scripts import CJK_CHAR
from studio.ui.i18n import field_label, say


def show_markdown(text: str) -> str:
    """Model and document text as Markdown that cannot carry live HTML."""
    return html.escape(text, quote=False)


def writer_studio(studio, request):
    """The studio as the logged-in writer sees it (the whole studio when accounts are off)."""
    return studio.for_user(getattr(request, "username", None))


def refusal_sink() -> gr.Markdown:
    """An invisible component for an event's ``show_progress_on``. Gradio marks the components
    an event shows progress on with a red "Error" that stays after the toast has gone, and
    ``show_progress="hidden"`` does not stop it; quick events that may refuse their input show
    their (instant) progress here instead, so a refusal is the toast alone."""
    return gr.Markdown(visible=False)


def _whole_number(value, request, message: str) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        return int(float(text))
    except (ValueError, OverflowError):
        raise gr.Error(say(request, message, value=text)) from None


def number(value, field: str, request=None) -> float:
    """A slider's or number field's value as a float, or a ``gr.Error`` naming the field
    (``field``: its argument name or TEXT label key). An API script may send anything.

    >>> number("0.7", "temperature"), number(16, "max_new_tokens")
    (0.7, 16.0)
    """
    try:
        result = float(value)
    except (TypeError, ValueError):
        result = math.nan
    if math.isnan(result) or math.isinf(result):
        raise gr.Error(say(request, "msg.not_a_number", field=field_label(request, field),
                           value=str(value)[:40]))
    return result


def whole(value, field: str, request=None) -> int:
    """A field's value as a whole number, or a ``gr.Error`` naming the field.

    >>> whole("16", "max_new_tokens"), whole(3.0, "k")
    (16, 3)
    """
    result = number(value, field, request)
    if result != int(result):
        raise gr.Error(say(request, "msg.not_whole", field=field_label(request, field), value=str(value)[:40]))
    return int(result)


def parse_seed(value, request=None) -> int | None:
    """A seed typed by the writer: empty means "draw one" (a number field would send 0).

    >>> parse_seed(""), parse_seed(" 42 "), parse_seed(7.0)
    (None, 42, 7)
    """
    return _whole_number(value, request, "msg.seed")


def parse_id(value, request=None) -> int | None:
    """An id typed by the writer (a text field: Gradio's number fields show an empty one as 0).

    >>> parse_id(""), parse_id(" 12 "), parse_id(3)
    (None, 12, 3)
    """
    return _whole_number(value, request, "msg.id_number")


def word_count(text: str) -> int:
    """Words as a writer counts them: each Chinese/Japanese/Korean character is one.

    >>> word_count("Grey herons hunt."), word_count("灰鹭在黎明捕鱼。"), word_count("")
    (3, 7, 0)
    """
    return len(CJK_CHAR.findall(text)) + len(re.findall(r"[^\W_]+", CJK_CHAR.sub(" ", text)))


def export_draft(studio, kind: str, generation_id, request, *, flagged: bool = False) -> gr.DownloadButton:
    """A download button for draft ``generation_id`` exported as ``kind`` ("md" or "docx");
    ``flagged``: the export ends with the sentences the check flagged."""
    generation = parse_id(generation_id, request)
    if generation is None:
        raise gr.Error(say(request, "msg.export_first"))
    path = (studio.export_docx if kind == "docx" else studio.export_markdown)(generation, flagged=flagged)
    return gr.DownloadButton(f"⬇ {path.name}", value=str(path), visible=True)
