"""Two plain HTTP concerns beside Gradio's routes, as one ASGI middleware: ``GET /metrics``
(Prometheus; only when turned on, behind the page's login when it has one, and only for who may
see studio-wide figures: an admin when there are accounts) and an upload whose file has no name,
which Gradio's upload route answers with a 500, refused with a 400."""

from __future__ import annotations

from typing import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse


class StudioRoutes:
    """ASGI middleware; ``metrics``: a function returning the Prometheus text, or None (off);
    ``may_read_metrics(user)``: whether a logged-in user (None without a login) may read it."""

    def __init__(self, app, metrics: Callable[[], str] | None = None,
                 may_read_metrics: Callable[[str | None], bool] = lambda user: True):
        self.app = app
        self.metrics = metrics
        self.may_read_metrics = may_read_metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"].rstrip("/")
            if path == "/metrics" and self.metrics is not None and scope["method"] == "GET":
                return await self._metrics(scope, receive, send)
            if path.endswith("/upload") and scope["method"] == "POST":
                return await self._upload(scope, receive, send)
        await self.app(scope, receive, send)

    async def _metrics(self, scope, receive, send):
        logged_in, user = await _login(scope)
        if not logged_in:
            response = PlainTextResponse("Log in first: the metrics are behind the studio's login.", status_code=401)
        elif not self.may_read_metrics(user):
            response = PlainTextResponse("The metrics are the whole studio's: an admin's to read.", status_code=403)
        else:
            response = PlainTextResponse(self.metrics(), media_type="text/plain; version=0.0.4")
        await response(scope, receive, send)

    async def _upload(self, scope, receive, send):
        started = False

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except TypeError as exc:  # a multipart part with filename="" is read as a form field
            if started or "GradioUploadFile" not in str(exc):
                raise
            await PlainTextResponse("Every uploaded file needs a file name.", status_code=400)(scope, receive, send)


async def _login(scope) -> tuple[bool, str | None]:
    """Whether the request carries the login the page asks for (always, when it asks none),
    and whose it is."""
    app = scope.get("app")
    if getattr(app, "auth_dependency", None) is not None:
        user = app.auth_dependency(Request(scope))
        if hasattr(user, "__await__"):
            user = await user
        return user is not None, user
    if getattr(app, "auth", None) is None:
        return True, None
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{app.cookie_id}") or cookies.get(f"access-token-unsecure-{app.cookie_id}")
    user = app.tokens.get(token) if token else None
    return user is not None, user
