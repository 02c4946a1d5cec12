"""The one way a handler's failure reaches the page.

Every event handler is wrapped by :func:`handler`: a :class:`knowledge.UserError` (which
``StudioError`` extends) becomes a ``gr.Error`` saying its reason in the page's language; a
``gr.Error`` the handler raised itself passes as is; anything else is a bug, logged with its
traceback under an incident id that the writer sees and can quote.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid

import gradio as gr

from knowledge import UserError
from studio.ui.i18n import explain, say

log = logging.getLogger("studio.ui")


def to_page(exc: BaseException, request=None, where: str = "") -> gr.Error:
    """What the writer sees for ``exc``, raised in handler ``where`` for ``request``."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, UserError):
        return gr.Error(explain(request, exc))
    incident = uuid.uuid4().hex[:8]
    log.error("incident %s in %s", incident, where or "a handler", exc_info=exc)
    return gr.Error(say(request, "msg.incident", id=incident))


def _request(args, kwargs):
    for value in (*args, *kwargs.values()):
        if isinstance(value, gr.Request):
            return value
    return None


def handler(fn):
    """Wrap an event handler (a function or a streaming generator) so its errors reach the
    page one way. Gradio reads the wrapped signature (``__wrapped__``), so ``gr.Request`` and
    ``gr.Progress`` arguments are still filled in."""
    where = getattr(fn, "__qualname__", repr(fn))
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streaming(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise to_page(exc, _request(args, kwargs), where) from None
        return streaming

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise to_page(exc, _request(args, kwargs), where) from None
    return plain
