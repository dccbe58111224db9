"""The FastAPI application: settings, store, sessions, templates, error pages and the routers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from subsidy_engine.cli.texttable import ID_LIKE, mask_id
from subsidy_engine.web.auth import NotSignedIn, SignInLimiter, csrf_token
from subsidy_engine.web.config import Settings, load_settings
from subsidy_engine.web.models import ROLE_TEXT
from subsidy_engine.web.store import make_engine, sessions, upgrade

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["ROLE_TEXT"] = ROLE_TEXT
templates.env.filters["mask"] = lambda v: ID_LIKE.sub(lambda m: mask_id(m.group(0)), str(v))


class MaskIds(logging.Filter):
    """Defence in depth for the server's logs (access log included): nothing shaped like a 证件号码 gets out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = ID_LIKE.sub(lambda m: mask_id(m.group(0)), str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                ID_LIKE.sub(lambda m: mask_id(m.group(0)), a) if isinstance(a, str) else a for a in args
            )
        return True


class BodyLimit:
    """Refuse a request body larger than the upload limit from its Content-Length, before reading it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit:
                mb = (self.limit - 65536) // (1024 * 1024)
                body = f"<p>文件超过上传大小限制 {mb} MB,请拆分名册后分别上传。</p>".encode()
                resp = HTMLResponse(body, status_code=413)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


PAGE_HEADERS = {  # pages hold personal data: not cached, not framed, nothing loaded from elsewhere
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    ctx = {"user": getattr(request.state, "user", None), "csrf": csrf_token(request), **context}
    resp = templates.TemplateResponse(request, name, ctx, status_code=status)
    resp.headers.update(PAGE_HEADERS)
    return resp


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    from subsidy_engine.web.routes import admin as routes_admin
    from subsidy_engine.web.routes import audit as routes_audit
    from subsidy_engine.web.routes import pages as routes_pages
    from subsidy_engine.web.routes import rules as routes_rules
    from subsidy_engine.web.routes import runs as routes_runs

    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    app = FastAPI(title="困难群众救助补贴计算", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions(engine)
    app.state.limiter = SignInLimiter(settings.signin_limit)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="subsidy_session",
        same_site="lax",
        https_only=settings.secure_cookie,
        max_age=12 * 3600,
    )
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 65536)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (routes_pages, routes_runs, routes_audit, routes_admin, routes_rules):
        app.include_router(module.router)

    @app.exception_handler(NotSignedIn)
    async def _to_login(request: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def _error_page(request: Request, exc: HTTPException) -> Response:
        text = {404: "没有找到这一页(或您无权查看)"}.get(exc.status_code, str(exc.detail))
        if exc.status_code == 404 and exc.detail not in ("Not Found", None):
            text = str(exc.detail)
        return render(request, "error.html", {"status": exc.status_code, "message": text}, exc.status_code)

    return app
