"""The home page and the roster uploads with their validation reports."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from subsidy_engine.errors import SubsidyError
from subsidy_engine.roster.schema import COLUMNS
from subsidy_engine.web import jobs
from subsidy_engine.web.auth import check_csrf, require, town_clause
from subsidy_engine.web.deps import DB, CurrentUser, data_dir, visible_upload
from subsidy_engine.web.labels import covered_periods
from subsidy_engine.web.masking import masked_rejects, scrub_paths
from subsidy_engine.web.models import Job, Run, Upload, User
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.services.uploads import UploadRefused, check_roster, receive, upload_folder
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
SHOWN_REJECTS = 500


@router.get("/")
def home(user: CurrentUser) -> Response:
    target = {"caseworker": "/uploads", "admin": "/admin/users"}.get(user.role, "/runs")
    return RedirectResponse(target, status_code=303)


def _uploads_page(
    request: Request, db: DB, user: User, error: str | None = None, status: int = 200
) -> Response:
    require(user, "caseworker", "reviewer", "auditor")
    query = select(Upload).where(town_clause(user, Upload.town)).order_by(Upload.created_at.desc())
    context = {"uploads": db.scalars(query).all(), "error": error, "columns": len(COLUMNS)}
    return render(request, "uploads.html", context, status)


@router.get("/uploads")
def uploads(request: Request, db: DB, user: CurrentUser) -> Response:
    return _uploads_page(request, db, user)


@router.post("/uploads")
def upload(request: Request, db: DB, user: CurrentUser, roster: Annotated[UploadFile, File()]) -> Response:
    require(user, "caseworker")
    settings = request.app.state.settings
    try:
        received = receive(roster.file, upload_folder(settings.data_dir), settings.max_upload_bytes)
        row = check_roster(settings, received, user, roster.filename or "")
    except SubsidyError as exc:
        status = exc.status if isinstance(exc, UploadRefused) else 400
        log_event(request, user, "upload", "", result=str(status))
        return _uploads_page(request, db, user, error=scrub_paths(str(exc)), status=status)
    db.add(row)
    db.commit()
    log_event(request, user, "upload", f"upload:{row.id}", detail={"rows": row.rows_read})
    return RedirectResponse(f"/uploads/{row.id}", status_code=303)


def reject_groups(rejects: list[dict[str, str]]) -> list[dict[str, object]]:
    """Problems by household, in roster order: the rows at fault first, then the household's other rows that
    were left out only because of them (HOUSEHOLD_REJECTED), folded under their household."""
    groups: dict[str, dict[str, list[dict[str, str]]]] = {}
    for r in rejects:
        key = r.get("户编号", "") or f"第 {r.get('行号', '')} 行"
        g = groups.setdefault(key, {"causes": [], "knock_on": []})
        g["knock_on" if r.get("原因代码") == "HOUSEHOLD_REJECTED" else "causes"].append(r)
    out: list[dict[str, object]] = []
    for key, g in groups.items():
        causes = g["causes"] or g["knock_on"][:1]
        knock_on = g["knock_on"] if g["causes"] else g["knock_on"][1:]
        out.append({"household": key, "causes": causes, "knock_on": knock_on})
    return out


@router.get("/uploads/{upload_id}")
def upload_page(request: Request, db: DB, user: CurrentUser, upload_id: str) -> Response:
    up = visible_upload(db, user, upload_id)
    path = data_dir(request) / up.path
    rejects = pd.read_csv(path.parent / "rejects.csv", dtype=str, keep_default_na=False, nrows=SHOWN_REJECTS)
    runs = db.scalars(select(Run).where(Run.upload_id == up.id).order_by(Run.created_at.desc())).all()
    recorded = {r.id for r in runs}
    waiting = [
        j
        for j in db.scalars(select(Job).where(Job.upload_id == up.id).order_by(Job.created_at.desc()))
        if j.id not in recorded
    ]
    first, last, periods = covered_periods()
    return render(
        request,
        "upload.html",
        {
            "upload": up,
            "groups": reject_groups(masked_rejects(rejects).to_dict("records")),
            "shown": SHOWN_REJECTS,
            "runs": runs,
            "jobs": waiting,
            "periods": periods,
            "coverage": (first, last),
        },
    )


@router.post("/uploads/{upload_id}/runs")
def run_period(
    request: Request,
    db: DB,
    user: CurrentUser,
    upload_id: str,
    period: Annotated[str, Form()],
    force: Annotated[str, Form()] = "",
) -> Response:
    """Queue the run (a worker computes it); the run page shows its stages until it ends."""
    up = visible_upload(db, user, upload_id)
    require(user, "caseworker")
    if not period.strip():
        raise HTTPException(400, "请填写期间:年份如 2023,或月份如 2023-09")
    try:
        job = jobs.enqueue(db, up, period, user, force=bool(force))
    except jobs.DuplicateRun as exc:
        log_event(
            request, user, "run", f"upload:{up.id}", detail={"period": exc.job.period}, result="duplicate"
        )
        raise HTTPException(409, str(exc)) from None
    log_event(
        request,
        user,
        "run",
        f"upload:{up.id} run:{job.id}",
        detail={"period": job.period, "force": bool(force)},
    )
    request.app.state.queue.notify()
    return RedirectResponse(f"/runs/{job.id}", status_code=303)
