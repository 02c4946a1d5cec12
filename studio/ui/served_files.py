"""Files served by path, each only to a writer allowed to see what it belongs to.

Gradio serves files by path (``/gradio_api/file=PATH``): the studio's images, the exports and
uploads it keeps in its cache. With accounts on, knowing a path is not enough: :class:`FileGate`
(an ASGI middleware) serves

* an image (``inkstone-<time>-<uuid>.png``) to the writer whose history holds it,
* an export (``inkstone-draft-<id>.md|docx``) to the writer whose draft ``id`` is,
* an upload to the writer who uploaded it (uploads are remembered as they happen; the
  Knowledge tab deletes them once they are stored),

and answers 404 for anything else, as for a file that does not exist. When a draft or image is
deleted from history, its files stop being served.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from urllib.parse import unquote

from knowledge import UserError

_IMAGE = re.compile(r"inkstone-\d{8}-\d{6}-[0-9a-f]{32}\.png")
_EXPORT = re.compile(r"inkstone-draft-(\d+)\.(?:md|docx)")


class FileGate:
    """ASGI middleware; ``studio`` is the :class:`studio.pipeline.Studio` being served."""

    def __init__(self, app, *, studio):
        self.app = app
        self.studio = studio
        self._uploads: dict[str, int] = {}  # upload path -> the account that uploaded it
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        serving = "/file=" in path
        uploading = scope.get("method") == "POST" and path.rstrip("/").endswith("/upload")
        # only file and upload requests ask whether accounts are on (a query), not every asset
        if scope["type"] != "http" or not (serving or uploading) or not self.studio.accounts.enabled():
            return await self.app(scope, receive, send)
        if serving and not self._may_serve(scope, unquote(path.split("/file=", 1)[1])):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain")]})
            return await send({"type": "http.response.body", "body": b"Not found"})
        if uploading:
            return await self._remember_uploads(scope, receive, send)
        return await self.app(scope, receive, send)

    def _writer(self, scope):
        """The logged-in writer's view of the studio, or None."""
        gradio_app = scope["app"]
        cookies = {}
        for key, value in scope.get("headers") or []:
            if key == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    name, _, content = part.strip().partition("=")
                    cookies[name] = content
        token = (cookies.get(f"access-token-{gradio_app.cookie_id}")
                 or cookies.get(f"access-token-unsecure-{gradio_app.cookie_id}"))
        name = gradio_app.tokens.get(token) if token else None
        try:
            return self.studio.for_user(name) if name else None
        except UserError:
            return None

    def _may_serve(self, scope, file: str) -> bool:
        writer = self._writer(scope)
        if writer is None:
            return False
        with self._lock:
            uploader = self._uploads.get(str(Path(file)))
        if uploader is not None:
            return uploader == writer.account.id
        name = Path(file).name
        if _IMAGE.fullmatch(name):
            return writer.history.find_output(name, kind="image") is not None
        if found := _EXPORT.fullmatch(name):
            try:
                return writer.history.get(int(found.group(1))).kind == "text"
            except UserError:
                return False
        return False

    async def _remember_uploads(self, scope, receive, send):
        writer = self._writer(scope)
        body = []

        async def watch(message):
            if message["type"] == "http.response.body" and writer is not None:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._remember(b"".join(body), writer.account.id)
            await send(message)

        return await self.app(scope, receive, watch)

    def _remember(self, body: bytes, account_id: int) -> None:
        try:
            paths = json.loads(body)
        except ValueError:
            return
        if isinstance(paths, list):
            with self._lock:
                for path in paths:
                    if isinstance(path, str):
                        self._uploads[str(Path(path))] = account_id
