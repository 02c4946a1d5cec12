"""Helpers shared by the UI's tabs: safe rendering, tables, error translation."""

from __future__ import annotations

import html
import logging

import gradio as gr

from knowledge import UserError

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


def writer_studio(studio, request):
    """The studio as the logged-in writer sees it (the whole studio when accounts are off)."""
    try:
        return studio.for_user(getattr(request, "username", None))
    except Exception as exc:
        raise user_error(exc) from None
