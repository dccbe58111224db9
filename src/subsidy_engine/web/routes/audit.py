"""The auditor's pages: re-run a recorded run, compare a paid list with it (diff + findings), the results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from subsidy_engine.errors import SubsidyError
from subsidy_engine.web import labels
from subsidy_engine.web.auth import check_csrf, require
from subsidy_engine.web.deps import DB, CurrentUser, data_dir, visible_check, visible_run
from subsidy_engine.web.models import StoredFile, Upload
from subsidy_engine.web.routes.runs import send_file
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.services.runs import CHECK_FILES, diff_check, rerun_check
from subsidy_engine.web.services.uploads import receive
from subsidy_engine.web.store import new_id
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])


@router.post("/runs/{run_id}/rerun")
def rerun(request: Request, db: DB, user: CurrentUser, run_id: str) -> Response:
    run = visible_run(db, user, run_id)
    require(user, "auditor")
    if run.status != "done":
        raise HTTPException(400, "失败的计算没有可重算的清单")
    try:
        check = rerun_check(data_dir(request), db, run, user)
    except SubsidyError as exc:
        log_event(request, user, "rerun", f"run:{run.id}", result="refused")
        raise HTTPException(400, str(exc)) from None
    log_event(
        request,
        user,
        "rerun",
        f"run:{run.id} check:{check.id}",
        result="identical" if check.ok else "differs",
    )
    return RedirectResponse(f"/checks/{check.id}", status_code=303)


@router.post("/runs/{run_id}/diff")
def diff(
    request: Request, db: DB, user: CurrentUser, run_id: str, paid: Annotated[UploadFile, File()]
) -> Response:
    run = visible_run(db, user, run_id)
    require(user, "auditor")
    upload = db.get(Upload, run.upload_id)
    if run.status != "done" or upload is None:
        raise HTTPException(400, "失败的计算不能比对")
    settings = request.app.state.settings
    try:
        folder = settings.data_dir / "checks" / new_id()
        received = receive(paid.file, folder, settings.max_upload_bytes, allow_parquet=False)
        shown = Path(paid.filename or "").name[:200] or "实发名单"
        check = diff_check(settings, db, run, upload, received.path, shown, user)
        log_event(
            request, user, "diff", f"run:{run.id} check:{check.id}", result="agree" if check.ok else "differs"
        )
    except SubsidyError as exc:
        log_event(request, user, "diff", f"run:{run.id}", result="refused")
        raise HTTPException(getattr(exc, "status", 400), str(exc)) from None
    return RedirectResponse(f"/checks/{check.id}", status_code=303)


@router.get("/checks/{check_id}")
def check_page(request: Request, db: DB, user: CurrentUser, check_id: str) -> Response:
    check = visible_check(db, user, check_id)
    files = db.scalars(select(StoredFile).where(StoredFile.check_id == check.id)).all()
    order = list(CHECK_FILES)
    files = sorted(files, key=lambda f: order.index(f.kind) if f.kind in order else len(order))
    downloads = [(f.kind, CHECK_FILES[f.kind][0]) for f in files if f.kind in CHECK_FILES]
    summary = check.summary or {}
    titles = labels.program_titles()
    by_program = [
        {**r, "code": r["项目"], "title": titles.get(r["项目"], r["项目"]), "total": r["项目"] == "合计"}
        for r in summary.get("by_program", [])
        if "项目" in r
    ]
    sample = summary.get("sample") or []
    columns = [c for c in (sample[0].keys() if sample else []) if c != "代码"]
    # the verdict lines of the report; the tables below replace its text tables
    headline = [labels.readable(line) for line in check.report.splitlines()[:2] if line.strip()]
    sample = [{k: labels.readable(v) if k == "证据" else v for k, v in r.items()} for r in sample]
    return render(
        request,
        "check.html",
        {
            "check": check,
            "downloads": downloads,
            "by_program": by_program,
            "headline": headline,
            "sample": sample,
            "sample_columns": columns,
            "money_columns": {"涉及金额"},
        },
    )


@router.get("/checks/{check_id}/files/{kind}")
def check_file(request: Request, db: DB, user: CurrentUser, check_id: str, kind: str) -> Response:
    check = visible_check(db, user, check_id)
    if kind not in CHECK_FILES:
        raise HTTPException(404)
    stored = db.scalar(select(StoredFile).where(StoredFile.check_id == check.id, StoredFile.kind == kind))
    run = visible_run(db, user, check.run_id)
    label = CHECK_FILES[kind][0].split("(")[0]
    name = f"{run.town or '多个乡镇'}-{run.period}-{label}{Path(kind).suffix}"
    return send_file(data_dir(request), stored, CHECK_FILES[kind][1], name)
