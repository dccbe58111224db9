"""The service's pages: a run's job status (polled by the run page) and cancel, the access log for auditors,
and the API's documentation page for signed-in users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from subsidy_engine.web import accesslog, jobs
from subsidy_engine.web.auth import check_csrf, require, town_filter
from subsidy_engine.web.deps import DB, CurrentUser
from subsidy_engine.web.models import Job, User
from subsidy_engine.web.signin import client_address
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
SHOWN_ENTRIES = 500


def address_of(request: Request) -> str:
    settings = request.app.state.settings
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


def log_event(request: Request, user: User | None, action: str, target: str = "", **kw: Any) -> None:
    """Append to the access log what `user` did in this request."""
    accesslog.record(
        request.app.state.engine, user=user, address=address_of(request), action=action, target=target, **kw
    )


def visible_job(db: DB, user: User, job_id: str) -> Job:
    job = db.get(Job, job_id)
    if job is None or not town_filter(user)(job.town):
        raise HTTPException(404)
    return job


@router.get("/runs/{run_id}/status")
def job_status(db: DB, user: CurrentUser, run_id: str) -> Response:
    return JSONResponse(jobs.job_view(visible_job(db, user, run_id)))


@router.post("/runs/{run_id}/cancel")
def cancel(request: Request, db: DB, user: CurrentUser, run_id: str) -> Response:
    job = visible_job(db, user, run_id)
    require(user, "caseworker")
    ok = jobs.cancel(db, job)
    log_event(request, user, "run_cancel", f"run:{job.id}", result="ok" if ok else "finished")
    return RedirectResponse(f"/runs/{job.id}", status_code=303)


@router.get("/log")
def log_page(
    request: Request,
    user: CurrentUser,
    since: str = "",
    until: str = "",
    action: str = "",
    name: str = "",
    target: str = "",
) -> Response:
    require(user, "auditor")
    found = list(
        accesslog.entries(
            request.app.state.engine,
            since=since.strip(),
            until=until.strip(),
            action=action.strip(),
            user=name.strip(),
            target=target.strip(),
            limit=SHOWN_ENTRIES,
        )
    )
    filters = {"since": since, "until": until, "action": action, "name": name, "target": target}
    return render(
        request,
        "log.html",
        {"entries": found, "filters": filters, "actions": accesslog.ACTION_TEXT, "shown": SHOWN_ENTRIES},
    )


@router.get("/api/docs")
def api_docs(request: Request, user: CurrentUser) -> Response:
    """The API's routes, read from its own OpenAPI document (no script or style from the network)."""
    doc = request.app.state.api.openapi()
    routes = []
    for path, methods in doc.get("paths", {}).items():
        for method, op in methods.items():
            params = [p["name"] for p in op.get("parameters", [])]
            routes.append(
                {
                    "method": method.upper(),
                    "path": "/api/v1" + path,
                    "summary": op.get("summary", ""),
                    "params": params,
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return render(request, "api_docs.html", {"routes": routes, "title": doc["info"]["title"]})
