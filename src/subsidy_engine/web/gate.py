"""The gate every request passes first (a pure ASGI middleware): security headers on every response, the
request's session found, and a request body read only when it may be.

A POST without a live session (other than the sign-in form) is sent to the sign-in page before a byte of its
body is read, and so is refused any POST a browser marks as cross-site (`Sec-Fetch-Site`); the body is then
counted as it arrives and the request aborted with 413 the moment it passes the limit, so an anonymous or
oversized upload is never spooled to disk by the multipart parser. The sign-in form's body is limited to
64 KB. A call of the API (`/api/v1/`) is answered 401 (JSON) before its body is read unless it carries a live
bearer token; it is not a browser's, so the cookie and `Sec-Fetch-Site` rules do not apply to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.cookies import SimpleCookie

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subsidy_engine.web import accesslog
from subsidy_engine.web.config import Settings
from subsidy_engine.web.sessions import COOKIE, Login, find_session
from subsidy_engine.web.tokens import bearer, token_user

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
STATIC = "/static/"
API = "/api/v1/"
OPENAPI = "/api/v1/openapi.json"
OPEN_POSTS = frozenset({"/login"})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS_BODY = 64 * 1024
MULTIPART_SLACK = 64 * 1024  # the form's other fields and boundaries around the file


class BodyTooLarge(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(413, message)


def with_security_headers(message: Message, path: str) -> Message:
    """The response start with the security headers (ours win), and `no-store` on all but static files. A
    response that sets its own Content-Security-Policy keeps it (it is built from ours: app.PAGE_HEADERS)."""
    ours = dict(SECURITY_HEADERS)
    if not path.startswith(STATIC):
        ours["cache-control"] = "no-store"
    if any(k.lower() == b"content-security-policy" for k, _ in message.get("headers", [])):
        del ours["content-security-policy"]
    names = {k.encode("latin-1") for k in ours}
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in ours.items()]
    return {**message, "headers": headers}


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return str(v.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a garbled Cookie header is no session
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class SecurityHeaders:
    """Outermost: the headers go on every response, the server's own 500 page included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_security_headers(message, scope["path"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Gate:
    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        sessions: sessionmaker[Session],
        error_page: Callable[[int, str], str],
    ) -> None:
        self.app = app
        self.settings = settings
        self.sessions = sessions
        self.error_page = error_page
        self.limit = settings.max_upload_bytes + MULTIPART_SLACK
        self.too_large = (
            f"文件超过上传大小限制 {settings.max_upload_bytes // (1024 * 1024)} MB,请拆分名册后分别上传。"
        )

    def _find(self, token: str) -> Login | None:
        with self.sessions() as db:
            return find_session(db, token, self.settings)

    def _api_user(self, token: str) -> int | None:
        with self.sessions() as db:
            user = token_user(db, token)
            return user.id if user is not None else None

    def _log_refused(self, scope: Scope) -> None:
        client = scope.get("client")
        accesslog.record(
            self.sessions.kw["bind"],
            user=None,
            address=client[0] if client else "?",
            action="api",
            target=f"{scope['method']} {scope['path']}"[:255],
            result="401",
        )

    async def _api_gate(self, scope: Scope, send: Send, login: Login | None) -> bool:
        """An API call needs a live bearer token (the OpenAPI document: a token or a signed-in browser)."""
        token = bearer(_header(scope, b"authorization"))
        user_id = await anyio.to_thread.run_sync(self._api_user, token) if token else None
        if user_id is not None:
            scope["subsidy.api_user"] = user_id
            return True
        if login is not None and scope["path"] == OPENAPI and scope["method"] in SAFE:
            return True
        await anyio.to_thread.run_sync(self._log_refused, scope)
        body = json.dumps(
            {"error": {"code": "unauthorized", "message": "缺少或无效的接口令牌(Authorization: Bearer …)"}},
            ensure_ascii=False,
        ).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return False

    async def _respond(self, send: Send, status: int, message: str = "", location: str = "") -> None:
        body = self.error_page(status, message).encode("utf-8") if message else b""
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        if location:
            headers.append((b"location", location.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STATIC):
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, COOKIE)
        login = await anyio.to_thread.run_sync(self._find, token) if token else None
        scope["subsidy.login"] = login
        limit = self.limit
        if scope["path"].startswith(API):  # other systems: a bearer token, no cookie, no browser checks
            if not await self._api_gate(scope, send, login):
                return
        elif scope["method"] not in SAFE:
            if (_header(scope, b"sec-fetch-site") or "same-origin") not in ("same-origin", "none"):
                await self._respond(send, 403, "跨站提交已被拒绝:请在本系统的页面上操作")
                return
            if login is None and scope["path"] not in OPEN_POSTS:
                await self._respond(send, 303, location="/login")
                return
            if login is None:
                limit = ANONYMOUS_BODY
            length = _header(scope, b"content-length")
            if length is not None and length.strip().isdigit() and int(length) > limit:
                await self._respond(send, 413, self.too_large)
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self.too_large)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await self._respond(send, 413, exc.detail)
