"""Two plain HTTP concerns beside Gradio's routes, as one ASGI middleware: ``GET /metrics``
(Prometheus; only when turned on, and behind the page's login when it has one) and an upload
whose file has no name, which Gradio's upload route answers with a 500, refused with a 400."""

from __future__ import annotations

from typing import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse


class StudioRoutes:
    """ASGI middleware; ``metrics``: a function returning the Prometheus text, or None (off)."""

    def __init__(self, app, metrics: Callable[[], str] | None = None):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"].rstrip("/")
            if path == "/metrics" and self.metrics is not None and scope["method"] == "GET":
                return await self._metrics(scope, receive, send)
            if path.endswith("/upload") and scope["method"] == "POST":
                return await self._upload(scope, receive, send)
        await self.app(scope, receive, send)

    async def _metrics(self, scope, receive, send):
        if not await _logged_in(scope):
            response = PlainTextResponse("Log in first: the metrics are behind the studio's login.", status_code=401)
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


async def _logged_in(scope) -> bool:
    """Whether the request carries the login the page asks for (always, when it asks none)."""
    app = scope.get("app")
    if getattr(app, "auth_dependency", None) is not None:
        user = app.auth_dependency(Request(scope))
        if hasattr(user, "__await__"):
            user = await user
        return user is not None
    if getattr(app, "auth", None) is None:
        return True
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{app.cookie_id}") or cookies.get(f"access-token-unsecure-{app.cookie_id}")
    return app.tokens.get(token) is not None
