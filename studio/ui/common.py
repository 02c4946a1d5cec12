"""Helpers shared by the UI's tabs: safe rendering, tables, error translation."""

from __future__ import annotations

import functools
import html
import logging
import re

import gradio as gr

from knowledge import UserError
from textkit.scripts import CJK_CHAR
from studio.ui.i18n import say

log = logging.getLogger("studio.ui")


def show_markdown(text: str) -> str:
    """Model and document text as Markdown that cannot carry live HTML."""
    return html.escape(text, quote=False)


def user_error(exc: Exception) -> gr.Error:
    """A writer-actionable error as is; anything else logged and shown as a short message."""
    if isinstance(exc, UserError):
        return gr.Error(str(exc))
    log.exception("unexpected error in the UI")
    return gr.Error("Something went wrong on our side; the details are in the studio's log.")


def shown(handler):
    """``handler`` with a writer-actionable error shown as the page's toast (see user_error)."""
    @functools.wraps(handler)  # keeps the signature: Gradio passes gr.Request by its annotation
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            raise user_error(exc) from None
    return run


def writer_studio(studio, request):
    """The studio as the logged-in writer sees it (the whole studio when accounts are off)."""
    try:
        return studio.for_user(getattr(request, "username", None))
    except Exception as exc:
        raise user_error(exc) from None


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
    except ValueError:
        raise gr.Error(say(request, message, value=text)) from None


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
    number = parse_id(generation_id, request)
    if number is None:
        raise gr.Error(say(request, "msg.export_first"))
    try:
        path = (studio.export_docx if kind == "docx" else studio.export_markdown)(number, flagged=flagged)
    except Exception as exc:
        raise user_error(exc) from None
    return gr.DownloadButton(f"⬇ {path.name}", value=str(path), visible=True)
