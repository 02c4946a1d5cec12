"""Logging in to a studio with accounts: Gradio's login page and cookie, with what it lacks.

:class:`LoginGate` wraps the served app (an ASGI middleware) and adds:

* **a limit on failed logins** per name and per address (:class:`LoginLimiter`); a locked name or
  address gets HTTP 429 until the lock ends, even with the right password;
* **the switch to logins** when the first account is added to a running studio (from the command
  line, another process): the next request turns Gradio's login on, so the studio never refuses
  everyone until a restart;
* **only a Secure cookie over HTTPS**: Gradio also sets a second, unsecure copy of the login cookie
  for plain-HTTP use, dropped when the request came over HTTPS (directly or through a proxy
  that says so in ``X-Forwarded-Proto``).

Sessions themselves live in the database (:class:`studio.accounts.Sessions`).
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs

from studio.accounts import Accounts

# Failed logins allowed per name and per address within WINDOW_S before a lock; each further
# failure doubles the lock, from LOCK_S up to MAX_LOCK_S.
NAME_FAILURES, ADDRESS_FAILURES = 5, 20
WINDOW_S, LOCK_S, MAX_LOCK_S = 300.0, 30.0, 900.0


class LoginLimiter:
    """Counts failed logins by key (a name, an address) and says how long a key is locked."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> list[float]:
        now = self.clock()
        kept = [t for t in self._failures.get(key, []) if now - t < WINDOW_S]
        self._failures[key] = kept
        return kept

    def wait_s(self, key: str, allowed: int) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        with self._lock:
            failures = self._recent(key)
            if len(failures) < allowed:
                return 0.0
            lock = min(LOCK_S * 2 ** (len(failures) - allowed), MAX_LOCK_S)
            return max(0.0, failures[-1] + lock - self.clock())

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginGate:
    """ASGI middleware around the Gradio app (see the module's docstring)."""

    def __init__(self, app, *, accounts: Accounts, limiter: LoginLimiter | None = None):
        self.app = app
        self.accounts = accounts
        self.limiter = limiter or LoginLimiter()
        self._checked_at = 0.0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self._switch_to_logins(scope["app"])
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login"):
            return await self._login(scope, receive, send)
        return await self.app(scope, receive, send)

    def _switch_to_logins(self, gradio_app) -> None:
        """Turn Gradio's login on once accounts exist (checked at most once a second)."""
        if getattr(gradio_app, "auth", None) is not None or time.monotonic() - self._checked_at < 1:
            return
        self._checked_at = time.monotonic()
        if self.accounts.enabled():
            gradio_app.auth = self.accounts.check

    async def _login(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        name = (parse_qs(body.decode("utf-8", "replace")).get("username") or [""])[0].strip()
        address = (scope.get("client") or ("?",))[0]
        keys = ((f"name:{name}", NAME_FAILURES), (f"address:{address}", ADDRESS_FAILURES))
        wait = max(self.limiter.wait_s(key, allowed) for key, allowed in keys)
        if wait:
            detail = f"Too many failed logins: try again in {int(wait) + 1} s."
            payload = json.dumps({"detail": detail}).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"retry-after", str(int(wait) + 1).encode())]})
            return await send({"type": "http.response.body", "body": payload})

        https = scope.get("scheme") == "https" or dict(scope.get("headers") or []).get(
            b"x-forwarded-proto", b"").lower() == b"https"
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def watch(message):
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 200:  # the name's count starts again; the address's stays
                    self.limiter.succeeded(keys[0][0])
                elif status in (400, 401):
                    for key, _ in keys:
                        self.limiter.failed(key)
                if https:
                    message = {**message, "headers": [
                        (k, v) for k, v in message.get("headers", [])
                        if not (k.lower() == b"set-cookie" and v.startswith(b"access-token-unsecure"))]}
            await send(message)

        return await self.app(scope, replay, watch)
