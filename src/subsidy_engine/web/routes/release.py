"""The run page's review and bank actions: submit, approve, return, the bank file, the bank's return,
re-issue, write-off and 已发放. Each one, refused or done, is written to the access log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from subsidy_engine.errors import SubsidyError
from subsidy_engine.release.states import Refused
from subsidy_engine.web.auth import check_csrf, require
from subsidy_engine.web.deps import DB, CurrentUser, data_dir, visible_run
from subsidy_engine.web.masking import scrub_paths
from subsidy_engine.web.models import BankBatch, Run, StoredFile, User
from subsidy_engine.web.routes.runs import send_file
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.services import bank, release

router = APIRouter(dependencies=[Depends(check_csrf)])


def refusal(request: Request, user: User, action: str, run: Run, exc: Exception) -> HTTPException:
    """The refusal logged, as the HTTP error the page shows (403: not you; 409: not now; 400: unreadable)."""
    if isinstance(exc, Refused):
        status, code = (403 if exc.forbidden else 409), exc.code
    else:
        status, code = int(getattr(exc, "status", 400)), type(exc).__name__
    log_event(request, user, action, f"run:{run.id}", detail={"code": code}, result="refused")
    return HTTPException(status, scrub_paths(str(exc)))


def back(run: Run, anchor: str = "release") -> Response:
    return RedirectResponse(f"/runs/{run.id}#{anchor}", status_code=303)


@router.post("/runs/{run_id}/submit")
def submit(request: Request, db: DB, user: CurrentUser, run_id: str) -> Response:
    run = visible_run(db, user, run_id)
    try:
        release.submit(data_dir(request), db, run, user)
    except (Refused, SubsidyError) as exc:
        raise refusal(request, user, "release_submit", run, exc) from None
    codes = [w["code"] for w in run.warnings or []]
    log_event(request, user, "release_submit", f"run:{run.id}", detail={"warnings": codes})
    return back(run)


@router.post("/runs/{run_id}/approve")
def approve(
    request: Request, db: DB, user: CurrentUser, run_id: str, ack: Annotated[list[str] | None, Form()] = None
) -> Response:
    run = visible_run(db, user, run_id)
    try:
        release.approve(data_dir(request), db, run, user, ack or [])
    except Refused as exc:
        raise refusal(request, user, "release_approve", run, exc) from None
    log_event(
        request, user, "release_approve", f"run:{run.id}", detail={"acknowledged": sorted(set(ack or []))}
    )
    return back(run)


@router.post("/runs/{run_id}/return")
def send_back(
    request: Request, db: DB, user: CurrentUser, run_id: str, reason: Annotated[str, Form()] = ""
) -> Response:
    run = visible_run(db, user, run_id)
    try:
        release.send_back(db, run, user, reason)
    except Refused as exc:
        raise refusal(request, user, "release_return", run, exc) from None
    log_event(request, user, "release_return", f"run:{run.id}", detail={"reason": reason.strip()[:200]})
    return back(run)


@router.post("/runs/{run_id}/bank")
def export(
    request: Request, db: DB, user: CurrentUser, run_id: str, reissue: Annotated[str, Form()] = ""
) -> Response:
    """The run's first batch (代发文件), or with `reissue` a batch of the lines the last return left unpaid."""
    run = visible_run(db, user, run_id)
    action = "bank_reissue" if reissue else "bank_export"
    try:
        b = bank.export_batch(request.app.state.settings, db, run, user, reissue=bool(reissue))
    except (Refused, SubsidyError) as exc:
        raise refusal(request, user, action, run, exc) from None
    detail = {"batch": b.number, "lines": b.lines, "total": b.total, "held": b.held}
    log_event(request, user, action, f"run:{run.id} batch:{b.id}", detail=detail)
    return back(run, "bank")


@router.get("/runs/{run_id}/bank/{batch_id}/{kind}")
def batch_file(
    request: Request, db: DB, user: CurrentUser, run_id: str, batch_id: str, kind: str
) -> Response:
    run = visible_run(db, user, run_id)
    require(user, "caseworker", "reviewer", "auditor")
    b = db.get(BankBatch, batch_id)
    files = {**bank.BATCH_FILES, **bank.RECON_FILES}
    if b is None or b.run_id != run.id or kind not in files:
        raise HTTPException(404)
    stored = db.scalar(select(StoredFile).where(StoredFile.batch_id == b.id, StoredFile.kind == kind))
    label, rel, media, full_ids = files[kind]
    stem = f"{run.town or '多个乡镇'}-{run.period}-代发-{b.number}"
    name = f"{stem}{'' if kind.startswith('bank.') else '-' + label.split('(')[0]}{Path(rel).suffix}"
    response = send_file(data_dir(request), stored, media, name)
    if full_ids:  # whole 证件号码 and accounts: who took the file is recorded
        log_event(request, user, "download", f"run:{run.id} batch:{b.id} {kind}")
    return response


@router.post("/runs/{run_id}/bank-return")
def bank_return(
    request: Request, db: DB, user: CurrentUser, run_id: str, returned: Annotated[UploadFile, File()]
) -> Response:
    run = visible_run(db, user, run_id)
    shown = Path(returned.filename or "").name[:200] or "银行回盘"
    try:
        b, done = bank.reconcile(request.app.state.settings, db, run, user, returned.file, shown)
    except (Refused, SubsidyError) as exc:
        raise refusal(request, user, "bank_reconcile", run, exc) from None
    detail, result = bank.reconcile_record(b)
    log_event(request, user, "bank_reconcile", f"run:{run.id} batch:{b.id}", detail=detail, result=result)
    if done:
        log_event(request, user, "release_done", f"run:{run.id}", detail={"written_off": 0})
    return back(run, "bank")


@router.post("/runs/{run_id}/release")
def release_run(
    request: Request,
    db: DB,
    user: CurrentUser,
    run_id: str,
    key: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """已发放: the lines left unpaid written off, each with its reason."""
    run = visible_run(db, user, run_id)
    offs = {k: r for k, r in zip(key or [], reason or [], strict=False) if r.strip()}
    try:
        bank.release_run(db, run, user, offs)
    except Refused as exc:
        raise refusal(request, user, "release_done", run, exc) from None
    log_event(request, user, "release_done", f"run:{run.id}", detail={"written_off": len(offs)})
    return back(run, "bank")
