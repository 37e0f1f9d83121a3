"""ASGI middleware: security headers on every response; sign-in, scopes and CSRF before any route.

``AuthGate`` runs before FastAPI's routing, so nothing but ``/api/health``, the login page and
the static files is reachable anonymously — the OpenAPI document included. For a caller
signed in with a session cookie, every state-changing request must carry the session's CSRF
token (``X-CSRF-Token`` header, or a ``csrf_token`` field of a url-encoded form), else 403.
"""

from __future__ import annotations

import hmac
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.store_down import STORE_RETRY_AFTER, store_unavailable_detail
from orchestrator.dashboard.identity import Caller, Identifier
from orchestrator.dashboard.tokens import required_scope
from orchestrator.errors import StoreUnavailable

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
ANONYMOUS_PATHS = frozenset({"/api/health", "/login"})
STATIC_PREFIX = "/static/"
PASSWORD_PATH = "/account/password"  # noqa: S105 - a URL path  # nosec B105
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1 << 20


class SecurityHeaders:
    """Adds the security headers (and no-store for data) to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(STATIC_PREFIX)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode("latin-1").lower() for k, _v in headers}
                wanted = dict(SECURITY_HEADERS)
                wanted["cache-control"] = "private, max-age=3600" if static else "no-store"
                if https:
                    wanted["strict-transport-security"] = "max-age=31536000"
                for name, value in wanted.items():
                    if name not in present:
                        headers.append((name.encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path in ("/metrics", "/openapi.json")


async def _respond(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def _store_unavailable(send: Send, path: str, exc: StoreUnavailable) -> None:
    """503 before anyone could be identified: JSON for programs, a short page for people."""
    detail = store_unavailable_detail(exc)
    retry = {"retry-after": STORE_RETRY_AFTER}
    if _is_api(path):
        await _respond(send, 503, {"detail": detail}, retry)
        return
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Store unavailable</title></head>"
        f"<body><h1>The store is unavailable</h1><p>{html.escape(detail)}</p>"
        "<p>This page works again once it answers; reload it in a moment.</p></body></html>"
    ).encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in retry.items()]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": page})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


class AuthGate:
    """Identify the caller; refuse anonymous access, tokens outside their scopes, and CSRF."""

    def __init__(
        self,
        app: ASGIApp,
        identifier: Identifier,
        settings_tokens: Callable[[], dict[str, dict[str, str]]],
        metrics_anonymous: bool = False,
    ) -> None:
        self.app = app
        self.identifier = identifier
        self.settings_tokens = settings_tokens
        self.metrics_anonymous = metrics_anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"].upper()
        if path.startswith(STATIC_PREFIX):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            caller: Caller | None = await run_in_threadpool(
                self.identifier.identify, request, self.settings_tokens()
            )
        except StoreUnavailable as exc:  # sessions and users live in the store
            await _store_unavailable(send, path, exc)
            return
        scope.setdefault("state", {})["caller"] = caller
        if path in ANONYMOUS_PATHS or (path == "/metrics" and self.metrics_anonymous):
            await self.app(scope, receive, send)
            return
        if caller is None:
            if _is_api(path):
                await _respond(
                    send, 401, {"detail": "sign in or present a bearer token"}, {"www-authenticate": "Bearer"}
                )
            else:
                target = path + (
                    f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else ""
                )
                await _redirect(send, f"/login?next={quote(target, safe='')}")
            return
        if caller.scopes is not None:
            needed = required_scope(method, path)
            if needed is None or needed not in caller.scopes:
                what = f"the {needed} scope" if needed else "a signed-in person (tokens cannot)"
                await _respond(send, 403, {"detail": f"{method} {path} needs {what}"})
                return
        if caller.session is not None and method not in SAFE_METHODS:
            receive = await self._check_csrf(scope, receive, send, caller)
            if receive is None:
                return
        if caller.must_change_password and path not in (PASSWORD_PATH, "/logout"):
            if _is_api(path):
                await _respond(send, 403, {"detail": "change the one-time password first"})
            else:
                await _redirect(send, PASSWORD_PATH)
            return
        await self.app(scope, receive, send)

    async def _check_csrf(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> Receive | None:
        """The receive channel to continue with, or None after a 403 was sent."""
        assert caller.session is not None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        presented = headers.get("x-csrf-token")
        body = b""
        replay: Receive = receive
        if presented is None and headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_FORM_BYTES:
                    await _respond(send, 413, {"detail": "form too large"})
                    return None
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get("csrf_token")
            presented = values[0] if values else None
            replay = _replaying(body, receive)
        if not presented or not hmac.compare_digest(presented, caller.session.csrf):
            await _respond(
                send, 403, {"detail": "missing or wrong CSRF token; reload the page and try again"}
            )
            return None
        return replay


def _replaying(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
