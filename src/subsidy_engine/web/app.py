"""The FastAPI application: settings, store, the gate, the error handlers and the routers (templates: templating.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from subsidy_engine.web.api import create_api
from subsidy_engine.web.api_release import add_release_routes
from subsidy_engine.web.auth import NotSignedIn
from subsidy_engine.web.config import Settings, load_settings
from subsidy_engine.web.gate import Gate, SecurityHeaders
from subsidy_engine.web.masking import mask_text, scrub_paths
from subsidy_engine.web.routes import account as routes_account
from subsidy_engine.web.routes import admin as routes_admin
from subsidy_engine.web.routes import audit as routes_audit
from subsidy_engine.web.routes import downloads as routes_downloads
from subsidy_engine.web.routes import pages as routes_pages
from subsidy_engine.web.routes import payments as routes_payments
from subsidy_engine.web.routes import release as routes_release
from subsidy_engine.web.routes import rules as routes_rules
from subsidy_engine.web.routes import runs as routes_runs
from subsidy_engine.web.routes import service as routes_service
from subsidy_engine.web.signin import SignInLimiter, dummy_hash
from subsidy_engine.web.store import make_engine, sessions, upgrade
from subsidy_engine.web.sweep import prepare_data_dir, sweep_orphans
from subsidy_engine.web.templating import error_page, render
from subsidy_engine.web.worker import Queue

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


class MaskIds(logging.Filter):
    """Defence in depth for the server's logs (access log included): nothing shaped like a 证件号码 gets out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in args)
        return True


class App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:

    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    app = App(title="困难群众救助补贴计算", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions(engine)
    app.state.limiter = SignInLimiter(settings)
    app.state.queue = Queue(app.state.sessions, settings)
    with app.state.sessions() as db:
        removed = sweep_orphans(db, settings.data_dir)
    if removed:
        log.warning("启动时清除了 %d 个没有数据库记录的文件夹(上次中断留下的)", len(removed))
    prepare_data_dir(settings.data_dir)
    dummy_hash()  # made now, so the first unknown name costs what every other sign-in costs
    app.add_middleware(Gate, settings=settings, sessions=app.state.sessions, error_page=error_page)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.api = create_api(app.state)
    add_release_routes(app.state.api)  # submit, approve, return, the bank file and the bank's return
    app.mount("/api/v1", app.state.api)
    for module in (
        routes_pages,
        routes_service,
        routes_runs,
        routes_release,
        routes_downloads,
        routes_payments,
        routes_audit,
        routes_admin,
        routes_rules,
        routes_account,
    ):
        app.include_router(module.router)

    @app.exception_handler(NotSignedIn)
    async def _to_login(request: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def _error_page(request: Request, exc: HTTPException) -> Response:
        fixed = {404: "没有找到这一页(或您无权查看)", 405: "不支持这种请求方式"}
        text = fixed.get(exc.status_code, scrub_paths(str(exc.detail)))
        if exc.status_code == 404 and exc.detail not in ("Not Found", None):
            text = scrub_paths(str(exc.detail))
        return render(request, "error.html", {"status": exc.status_code, "message": text}, exc.status_code)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        return HTMLResponse(error_page(500, "服务器内部错误,已记录;请稍后重试或联系管理员"), status_code=500)

    return app


def app_from_environment() -> FastAPI:
    """The app of one of `subsidy serve --workers N`'s processes: settings from the environment, the schema
    already brought up to date by the parent."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(MaskIds())
    return create_app(load_settings(), migrate=False)
