"""The API for other systems, `/api/v1`: uploads, runs, run status, run files and explain, as JSON; review,
approval and the bank in api_release.py.

A sub-application mounted at /api/v1, described by its OpenAPI document (`/api/v1/openapi.json`). Every call
carries `Authorization: Bearer <token>` (tokens.py; the gate answers 401 before the body is read without a
live one); the roles and the town binding are the pages' own (a caseworker uploads and runs for their town,
an auditor reads every town, another town's object is 404). Errors are `{"error": {"code", "message"}}`
with a stable code and a Chinese message. Every call is written to the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from subsidy_engine.errors import SubsidyError
from subsidy_engine.web import accesslog, jobs
from subsidy_engine.web.auth import town_filter
from subsidy_engine.web.deps import DB
from subsidy_engine.web.masking import scrub_paths
from subsidy_engine.web.models import Job, Run, StoredFile, Upload, User
from subsidy_engine.web.services.explain import NotInRoster, explain_report
from subsidy_engine.web.services.uploads import UploadRefused, check_roster, receive, upload_folder
from subsidy_engine.web.store import sha256_file

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    500: "internal_error",
}
MESSAGES = {
    401: "缺少或无效的接口令牌(Authorization: Bearer …)",
    403: "您的角色无权进行此操作",
    404: "没有找到(或您无权查看)",
    405: "不支持这种请求方式",
    422: "请求的参数不正确",
    500: "服务器内部错误,已记录;请稍后重试或联系管理员",
}
# API file name -> path inside the run folder: the files `subsidy evaluate` and `subsidy publish` write
API_FILES = {
    "payments.csv": "payments.csv",
    "payments.xlsx": "payments.xlsx",
    "totals.csv": "totals.csv",
    "rejects.csv": "rejects.csv",
    "manifest.json": "manifest.json",
    "publish.csv": "publish/payments.csv",
    "publish.xlsx": "publish/payments.xlsx",
}
FULL_IDS = {"payments.csv", "payments.xlsx", "rejects.csv"}


@dataclass(frozen=True)
class Who:
    id: int
    name: str


class ApiError(HTTPException):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message)
        self.code = code


def error(status: int, code: str | None = None, message: str | None = None) -> JSONResponse:
    body = {
        "error": {"code": code or CODES.get(status, "error"), "message": message or MESSAGES.get(status, "")}
    }
    return JSONResponse(body, status_code=status)


class UploadOut(BaseModel):
    id: str
    rows: int = Field(description="名册行数(不含表头)")
    accepted: int
    rejected: int


class RunIn(BaseModel):
    period: str = Field(description="期间:年份 2024 或月份 2024-09", examples=["2024"])
    force: bool = Field(False, description="重新计算:同一名册同一期间已有计算时仍然计算")


class RunQueued(BaseModel):
    id: str
    status: str


class RunOut(BaseModel):
    id: str
    status: str = Field(description="queued | running | done | failed | cancelled")
    period: str
    stage: str | None
    error: str | None
    stages: list[dict[str, Any]]
    totals: dict[str, Any] | None = Field(description="完成后:各项目、各行政村与合计(人数、人次、金额)")


class ExplainIn(BaseModel):
    person: str | None = Field(None, description="证件号码(放在请求体中,不出现在网址里)")
    household: str | None = None


def api_user(request: Request, db: DB) -> User:
    user_id = request.scope.get("subsidy.api_user")
    user = db.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise ApiError(401, "unauthorized", MESSAGES[401])
    request.state.who = Who(user.id, user.name)  # for the access log, after the session has closed
    return user


ApiUser = Annotated[User, Depends(api_user)]


def _require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise ApiError(403, "forbidden", MESSAGES[403])


def _visible(user: User, town: str | None) -> None:
    if not town_filter(user)(town):
        raise ApiError(404, "not_found", MESSAGES[404])


def create_api(parent_state: Any) -> FastAPI:
    api = FastAPI(
        title="困难群众救助补贴计算 API",
        version="1",
        description="名册上传、计算、计算结果文件与解释;提交审核、审核、代发文件与银行回盘对账。"
        "每个请求带 `Authorization: Bearer <令牌>`"
        "(`subsidy users token 用户名` 生成)。",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.sessions = parent_state.sessions
    api.state.settings = parent_state.settings
    api.state.parent = parent_state

    @api.middleware("http")
    async def _log_every_call(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        user = getattr(request.state, "who", None)
        await anyio.to_thread.run_sync(
            lambda: accesslog.record(
                parent_state.engine,
                user=user,
                address=request.client.host if request.client else "?",
                action="api",
                target=f"{request.method} {request.url.path}",
                result=str(response.status_code),
            )
        )
        return response

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = getattr(exc, "code", None)
        message = str(exc.detail) if code or exc.status_code not in MESSAGES else None
        return error(exc.status_code, code, message)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return error(422, "invalid_request", f"请求的参数不正确:{where}")

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        return error(500)

    @api.post("/uploads", status_code=201, response_model=UploadOut, summary="上传名册(multipart 字段 file)")
    def upload(request: Request, db: DB, user: ApiUser, file: Annotated[UploadFile, File()]) -> UploadOut:
        _require(user, "caseworker")
        settings = request.app.state.settings
        try:
            received = receive(file.file, upload_folder(settings.data_dir), settings.max_upload_bytes)
            row = check_roster(settings, received, user, file.filename or "")
        except SubsidyError as exc:
            status = exc.status if isinstance(exc, UploadRefused) else 400
            raise ApiError(
                status, "upload_refused" if status == 400 else CODES[status], scrub_paths(str(exc))
            ) from None
        row.town = user.town
        db.add(row)
        db.commit()
        return UploadOut(
            id=row.id,
            rows=row.rows_read,
            accepted=row.rows_read - row.rows_rejected,
            rejected=row.rows_rejected,
        )

    @api.post(
        "/uploads/{upload_id}/runs",
        status_code=202,
        response_model=RunQueued,
        summary="为名册计算一个期间(排队)",
    )
    def start_run(request: Request, db: DB, user: ApiUser, upload_id: str, body: RunIn) -> RunQueued:
        upload = db.get(Upload, upload_id)
        if upload is None:
            raise ApiError(404, "not_found", MESSAGES[404])
        _visible(user, upload.town)
        _require(user, "caseworker")
        if not body.period.strip():
            raise ApiError(400, "period_required", "请填写期间:年份如 2023,或月份如 2023-09")
        try:
            job = jobs.enqueue(db, upload, body.period, user, force=body.force)
        except jobs.DuplicateRun as exc:
            raise ApiError(409, "duplicate_run", str(exc)) from None
        request.app.state.parent.queue.notify()
        return RunQueued(id=job.id, status=job.status)

    def _job(db: Session, user: User, run_id: str) -> Job:
        job = db.get(Job, run_id)
        if job is None:
            raise ApiError(404, "not_found", MESSAGES[404])
        _visible(user, job.town)
        return job

    @api.get("/runs/{run_id}", response_model=RunOut, summary="计算的状态、阶段与合计")
    def run_status(db: DB, user: ApiUser, run_id: str) -> RunOut:
        job = _job(db, user, run_id)
        run = db.get(Run, run_id)
        view = jobs.job_view(job)
        return RunOut(
            id=job.id,
            status=job.status,
            period=job.period,
            stage=job.stage,
            error=job.error,
            stages=view["stages"],
            totals=run.totals if run is not None and run.status == "done" else None,
        )

    def _done_run(db: Session, user: User, run_id: str) -> Run:
        _job(db, user, run_id)
        run = db.get(Run, run_id)
        if run is None or run.status != "done":
            raise ApiError(409, "run_not_done", "计算尚未完成或已失败,没有结果文件")
        return run

    @api.get("/runs/{run_id}/files/{name}", summary="计算的结果文件(与命令行写出的逐字节相同)")
    def run_file(request: Request, db: DB, user: ApiUser, run_id: str, name: str) -> Response:
        run = _done_run(db, user, run_id)
        if name not in API_FILES:
            raise ApiError(404, "no_such_file", f"没有这个文件;可选:{'、'.join(API_FILES)}")
        data = request.app.state.settings.data_dir
        path = (data / "runs" / run.id / API_FILES[name]).resolve()
        if not path.is_relative_to(data) or not path.is_file():
            raise ApiError(404, "no_such_file", "该计算没有这个文件")
        if not _genuine(db, run, name, path):
            raise ApiError(409, "file_changed", "存储的文件与记录的校验值不一致(文件被改动过),已拒绝下载")
        if name in FULL_IDS:
            accesslog.record(
                request.app.state.parent.engine,
                user=user,
                address=request.client.host if request.client else "?",
                action="download",
                target=f"run:{run.id} {name}",
                detail={"via": "api"},
            )
        return FileResponse(path, filename=f"{run.period}-{run.id[:8]}-{name}")

    @api.get("/runs/{run_id}/explain", summary="解释一户(户编号)")
    def explain_household(
        request: Request, db: DB, user: ApiUser, run_id: str, household: str
    ) -> dict[str, Any]:
        return _explain(request, db, user, run_id, None, household)

    @api.post("/runs/{run_id}/explain", summary="解释一个人(证件号码放在请求体中)或一户")
    def explain_post(request: Request, db: DB, user: ApiUser, run_id: str, body: ExplainIn) -> dict[str, Any]:
        return _explain(request, db, user, run_id, body.person, body.household)

    def _explain(
        request: Request, db: Session, user: User, run_id: str, person: str | None, household: str | None
    ) -> dict[str, Any]:
        run = _done_run(db, user, run_id)
        upload = db.get(Upload, run.upload_id)
        assert upload is not None
        person, household = (person or "").strip().upper(), (household or "").strip()
        if bool(person) == bool(household):
            raise ApiError(400, "person_or_household", "请给出证件号码或户编号(二选一)")
        accesslog.record(
            request.app.state.parent.engine,
            user=user,
            address=request.client.host if request.client else "?",
            action="explain",
            target=f"run:{run.id}",
            detail={"person": person, "household": household, "via": "api"},
        )
        try:
            return explain_report(request.app.state.settings.data_dir, upload, run, person, household)
        except NotInRoster as exc:
            raise ApiError(404, "not_in_roster", str(exc)) from None
        except SubsidyError as exc:
            raise ApiError(400, "explain_refused", str(exc)) from None

    return api


def _genuine(db: Session, run: Run, name: str, path: Path) -> bool:
    """The file is the one recorded: its sha256 as in the files table, else as in the run's manifest."""
    digest = sha256_file(path)
    kinds = {
        "payments.csv": "payments.csv",
        "payments.xlsx": "payments.xlsx",
        "totals.csv": "totals.csv",
        "manifest.json": "manifest.json",
        "publish.csv": "publish.csv",
        "publish.xlsx": "publish.xlsx",
    }
    if name in kinds:
        stored = db.scalar(
            select(StoredFile).where(StoredFile.run_id == run.id, StoredFile.kind == kinds[name])
        )
        if stored is not None:
            return stored.sha256 == digest
    outputs = (run.manifest or {}).get("outputs") or {}
    recorded = outputs.get(name) if isinstance(outputs, dict) else None
    if isinstance(recorded, dict):
        recorded = recorded.get("sha256")
    return recorded == digest if recorded else False
