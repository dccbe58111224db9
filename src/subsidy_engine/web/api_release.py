"""The API's review and bank routes (`add_release_routes(api)`): submit, approve, return, the release record,
the bank file, re-issue, the bank's return and 已发放 — the pages' own rules (services/release.py, bank.py).

A refusal is `{"error": {"code", "message"}}`: 403 with `wrong_role`, `wrong_town`, `own_run` (not you), 409
with `wrong_state`, `unacknowledged`, `not_approved`, `locked`, `changed`, `unpaid`, … (not now), 400 for a
return file that cannot be read. Each transition, export and reconciliation is in the access log with
`"via": "api"`, besides the log line every API call gets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidy_engine.errors import SubsidyError
from subsidy_engine.release.states import Refused
from subsidy_engine.web import accesslog
from subsidy_engine.web.api import MESSAGES, ApiError, ApiUser
from subsidy_engine.web.auth import town_filter
from subsidy_engine.web.deps import DB
from subsidy_engine.web.masking import scrub_paths
from subsidy_engine.web.models import BankBatch, Run, StoredFile, User
from subsidy_engine.web.services import bank, release
from subsidy_engine.web.store import sha256_file


class ApproveIn(BaseModel):
    acknowledged: list[str] = Field(
        default_factory=list, description="确认的审核提示代码(GET …/release 的 warnings[].code),须全部确认"
    )


class ReturnIn(BaseModel):
    reason: str = Field(description="退回原因(必填)")


class ReleaseIn(BaseModel):
    written_off: dict[str, str] = Field(
        default_factory=dict, description="未发放的行(GET …/release 的 unpaid[].key)→ 核销原因"
    )


class WarningOut(BaseModel):
    code: str
    title: str
    households: int
    amount: str = Field(description="涉及金额(元);未参与计算的户为空")


class BatchOut(BaseModel):
    id: str
    number: str = Field(description="批次号")
    seq: int
    reissue: bool
    lines: int
    total: str
    held: int
    held_total: str
    reconciled: bool
    counts: dict[str, Any] | None = Field(
        description="对账后:sent、paid、failed、held、unresolved 的笔数与金额"
    )
    errors: list[dict[str, str]] = Field(default_factory=list, description="回盘错误(逐行,证件号码打码)")


class ReleaseOut(BaseModel):
    id: str
    state: str = Field(description="草稿 | 已提交 | 已审核 | 已退回 | 已发放")
    replaces: str | None = Field(description="本运行更正(替代)的运行")
    replaced_by: list[str]
    returned_reason: str | None
    warnings: list[WarningOut]
    acknowledged: list[str]
    batches: list[BatchOut]
    unpaid: list[dict[str, Any]] = Field(
        description="未发放的行:key、kind(failed/held/unresolved)、姓名、金额……"
    )


def _run(db: Session, user: User, run_id: str) -> Run:
    run = db.get(Run, run_id)
    if run is None or not town_filter(user)(run.town):
        raise ApiError(404, "not_found", MESSAGES[404])
    return run


def _log(request: Request, user: User, action: str, target: str, result: str = "ok", **detail: Any) -> None:
    accesslog.record(
        request.app.state.parent.engine,
        user=user,
        address=request.client.host if request.client else "?",
        action=action,
        target=target,
        detail={**detail, "via": "api"},
        result=result,
    )


def _refused(request: Request, user: User, action: str, run: Run, exc: Exception) -> ApiError:
    if isinstance(exc, Refused):
        status, code = (403 if exc.forbidden else 409), exc.code.lower()
    else:
        status, code = int(getattr(exc, "status", 400)), "bank_refused"
    _log(request, user, action, f"run:{run.id}", "refused", code=code)
    return ApiError(status, code, scrub_paths(str(exc)))


def _out(db: Session, run: Run) -> ReleaseOut:
    batches = bank.batches(db, run)
    last = batches[-1] if batches else None
    return ReleaseOut(
        id=run.id,
        state=run.release_state or "",
        replaces=run.replaces,
        replaced_by=[r.id for r in release.replaced_by(db, run)],
        returned_reason=run.returned_reason,
        warnings=[
            WarningOut(**{k: w[k] for k in ("code", "title", "households", "amount")})
            for w in run.warnings or []
        ],
        acknowledged=list(run.acknowledged or []),
        batches=[_batch(b) for b in batches],
        unpaid=bank.unpaid_lines(db, run) if last is not None and last.summary is not None else [],
    )


def _batch(b: BankBatch) -> BatchOut:
    s = b.summary
    return BatchOut(
        id=b.id,
        number=b.number,
        seq=b.seq,
        reissue=b.reissue_of is not None,
        lines=b.lines,
        total=b.total,
        held=b.held,
        held_total=b.held_total,
        reconciled=s is not None,
        counts={k: s[k] for k in ("sent", "paid", "failed", "held", "unresolved")} if s else None,
        errors=list(s["errors"]) if s else [],
    )


def add_release_routes(api: FastAPI) -> None:
    """Add the routes to the API application (web/api.py's create_api)."""

    @api.get(
        "/runs/{run_id}/release",
        response_model=ReleaseOut,
        summary="审核与发放:状态、审核提示、代发批次、未发放的行",
    )
    def get_release(db: DB, user: ApiUser, run_id: str) -> ReleaseOut:
        return _out(db, _run(db, user, run_id))

    @api.post(
        "/runs/{run_id}/submit", response_model=ReleaseOut, summary="提交审核(经办人):草稿/已退回 → 已提交"
    )
    def submit(request: Request, db: DB, user: ApiUser, run_id: str) -> ReleaseOut:
        run = _run(db, user, run_id)
        try:
            release.submit(request.app.state.settings.data_dir, db, run, user)
        except (Refused, SubsidyError) as exc:
            raise _refused(request, user, "release_submit", run, exc) from None
        _log(
            request, user, "release_submit", f"run:{run.id}", warnings=[w["code"] for w in run.warnings or []]
        )
        return _out(db, run)

    @api.post(
        "/runs/{run_id}/approve",
        response_model=ReleaseOut,
        summary="审核通过(本乡镇另一位审核人,逐项确认审核提示):已提交 → 已审核",
    )
    def approve(request: Request, db: DB, user: ApiUser, run_id: str, body: ApproveIn) -> ReleaseOut:
        run = _run(db, user, run_id)
        try:
            release.approve(request.app.state.settings.data_dir, db, run, user, body.acknowledged)
        except Refused as exc:
            raise _refused(request, user, "release_approve", run, exc) from None
        _log(request, user, "release_approve", f"run:{run.id}", acknowledged=sorted(set(body.acknowledged)))
        return _out(db, run)

    @api.post(
        "/runs/{run_id}/return",
        response_model=ReleaseOut,
        summary="退回经办人(审核人,写明原因):已提交 → 已退回",
    )
    def send_back(request: Request, db: DB, user: ApiUser, run_id: str, body: ReturnIn) -> ReleaseOut:
        run = _run(db, user, run_id)
        try:
            release.send_back(db, run, user, body.reason)
        except Refused as exc:
            raise _refused(request, user, "release_return", run, exc) from None
        _log(request, user, "release_return", f"run:{run.id}", reason=body.reason.strip()[:200])
        return _out(db, run)

    @api.get("/runs/{run_id}/bank-file", summary="代发文件(审核通过后):最近的批次;还没有批次时生成首个批次")
    def bank_file(
        request: Request, db: DB, user: ApiUser, run_id: str, format: Literal["csv", "xlsx"] = "csv"
    ) -> FileResponse:
        run = _run(db, user, run_id)
        settings = request.app.state.settings
        try:
            existing = bank.batches(db, run)
            release.check_bank_actor(user)
            release.check_locked_files(settings.data_dir, db, run, export=not existing)
            b = existing[-1] if existing else bank.export_batch(settings, db, run, user)
        except (Refused, SubsidyError) as exc:
            raise _refused(request, user, "bank_export", run, exc) from None
        if not existing:
            _log(request, user, "bank_export", f"run:{run.id} batch:{b.id}", batch=b.number, lines=b.lines)
        kind = f"bank.{format}"
        stored = db.scalar(select(StoredFile).where(StoredFile.batch_id == b.id, StoredFile.kind == kind))
        path = settings.data_dir / stored.path if stored else None
        if stored is None or path is None or not path.is_file() or sha256_file(path) != stored.sha256:
            raise ApiError(409, "file_changed", "存储的代发文件与记录的校验值不一致(文件被改动过),已拒绝下载")
        _log(request, user, "download", f"run:{run.id} batch:{b.id} {kind}")
        return FileResponse(path, filename=f"{run.period}-{b.number}.{format}")

    @api.post(
        "/runs/{run_id}/reissue",
        status_code=201,
        response_model=BatchOut,
        summary="补发批次:上一批次对账后发放失败和暂缓的行",
    )
    def reissue(request: Request, db: DB, user: ApiUser, run_id: str) -> BatchOut:
        run = _run(db, user, run_id)
        try:
            b = bank.export_batch(request.app.state.settings, db, run, user, reissue=True)
        except (Refused, SubsidyError) as exc:
            raise _refused(request, user, "bank_reissue", run, exc) from None
        _log(request, user, "bank_reissue", f"run:{run.id} batch:{b.id}", batch=b.number, lines=b.lines)
        return _batch(b)

    @api.post(
        "/runs/{run_id}/bank-return",
        response_model=ReleaseOut,
        summary="上传银行回盘(multipart 字段 file),与最近的批次对账;全部发放成功时运行变为已发放",
    )
    def bank_return(
        request: Request, db: DB, user: ApiUser, run_id: str, file: Annotated[UploadFile, File()]
    ) -> ReleaseOut:
        run = _run(db, user, run_id)
        shown = Path(file.filename or "").name[:200] or "银行回盘"
        try:
            b, done = bank.reconcile(request.app.state.settings, db, run, user, file.file, shown)
        except (Refused, SubsidyError) as exc:
            raise _refused(request, user, "bank_reconcile", run, exc) from None
        counts, result = bank.reconcile_record(b)
        _log(request, user, "bank_reconcile", f"run:{run.id} batch:{b.id}", result, **counts)
        if done:
            _log(request, user, "release_done", f"run:{run.id}", written_off=0)
        return _out(db, run)

    @api.post(
        "/runs/{run_id}/release",
        response_model=ReleaseOut,
        summary="确认发放:未发放的行逐笔写明核销原因 → 已发放",
    )
    def release_run(request: Request, db: DB, user: ApiUser, run_id: str, body: ReleaseIn) -> ReleaseOut:
        run = _run(db, user, run_id)
        try:
            bank.release_run(db, run, user, body.written_off)
        except Refused as exc:
            raise _refused(request, user, "release_done", run, exc) from None
        _log(request, user, "release_done", f"run:{run.id}", written_off=len(body.written_off))
        return _out(db, run)
