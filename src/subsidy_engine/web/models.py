"""The store's tables: towns, users, sessions, failed sign-ins, uploads, runs (with their review and approval),
the bank batches of approved runs, files, the auditors' checks, the job queue, the access log and the API tokens.

Files live in the data folder under generated ids; a row holds the path relative to the data folder and its
sha256. A run row is written once, after its files are complete (status `done`), or with its error and no
files (status `failed`): never a row pointing at half a folder.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("caseworker", "reviewer", "auditor", "admin")
ROLE_TEXT = {"caseworker": "乡镇经办人", "reviewer": "审核人", "auditor": "审计人员", "admin": "管理员"}
TOWN_ROLES = ("caseworker", "reviewer")  # bound to one 乡镇: see and act on that town's data only


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Town(Base):
    """A 乡镇 users are bound to, with what its 公示 prints: the 公示期 and the 监督电话 (free text)."""

    __tablename__ = "towns"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    publicity: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hotline: Mapped[str | None] = mapped_column(String(40), nullable=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    town: Mapped[str | None] = mapped_column(ForeignKey("towns.name"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random token; the row holds only its sha256, so a copy of the
    database does not sign anyone in. Deleting the row ends the session (logout, password change, …)."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SigninFailure(Base):
    """One failed sign-in: counted per (address, name) and per address by the sign-in limiter."""

    __tablename__ = "signin_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    town: Mapped[str | None] = mapped_column(ForeignKey("towns.name"), nullable=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    original_name: Mapped[str] = mapped_column(String(255))  # shown only, never used as a path
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    households_accepted: Mapped[int] = mapped_column(Integer)
    households_rejected: Mapped[int] = mapped_column(Integer)
    problems: Mapped[int] = mapped_column(Integer)


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id"), index=True)
    town: Mapped[str | None] = mapped_column(ForeignKey("towns.name"), nullable=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    period: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # done | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    rows_read: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_rejected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lines: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total: Mapped[str | None] = mapped_column(String(32), nullable=True)  # yuan as exact text
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # review and approval (release/states.py; None for a failed run): 草稿 已提交 已审核 已退回 已发放
    release_state: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    replaces: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), nullable=True)  # the run corrected
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    returned_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    warnings: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # found when submitted
    acknowledged: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # warning codes, at approval
    release_files: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, nullable=True
    )  # kind → sha256, submitted
    locked_files: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, nullable=True
    )  # kind → sha256, approved
    written_off: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # line → reason
    release_history: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # the transitions


class Check(Base):
    """An auditor's re-run (kind `rerun`) or paid-list comparison with findings (kind `diff`) of a run."""

    __tablename__ = "checks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    ok: Mapped[bool] = mapped_column(Boolean)  # rerun: identical; diff: the lists agree
    report: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class BankBatch(Base):
    """A bank batch (代发批次) of an approved run: its files, then the bank's return reconciled against it.

    The first batch of a run pays its whole list; a re-issue (`reissue_of`: the batch whose reconciliation
    left lines failed or held back) pays only those. `summary` is the reconciliation (counts, errors and the
    lines still unpaid, 证件号码 masked); None until the return is reconciled."""

    __tablename__ = "bank_batches"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_bank_batches_run_seq"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1 for the first batch of the run, then 2, 3 …
    number: Mapped[str] = mapped_column(String(40))  # 批次号
    reissue_of: Mapped[str | None] = mapped_column(ForeignKey("bank_batches.id"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lines: Mapped[int] = mapped_column(Integer)
    total: Mapped[str] = mapped_column(String(32))
    held: Mapped[int] = mapped_column(Integer)
    held_total: Mapped[str] = mapped_column(String(32))
    reconciled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reconciled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class StoredFile(Base):
    __tablename__ = "files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), nullable=True, index=True)
    check_id: Mapped[str | None] = mapped_column(ForeignKey("checks.id"), nullable=True, index=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("bank_batches.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(255))  # relative to the data folder
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)


class Job(Base):
    """A queued piece of work (today: a run of a period over an upload), claimed by one worker at a time.

    The id of a run job is the id of the run it makes. Status: queued → running → done | failed | cancelled.
    A running job's worker writes `heartbeat_at`; a job whose worker stopped beating is failed by the reaper."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # run
    status: Mapped[str] = mapped_column(String(16), index=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id"), index=True)
    town: Mapped[str | None] = mapped_column(ForeignKey("towns.name"), nullable=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stages: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # [[name, start iso, end iso|None]]
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AccessEntry(Base):
    """One line of the append-only access log; `hash` = sha256(previous hash + this entry's canonical content)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40), index=True)  # ISO 8601 UTC text: hashed as stored
    user_id: Mapped[int | None] = mapped_column(
        Integer, nullable=True
    )  # no foreign key: the log outlives rows
    user_name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, ID-shaped text masked
    result: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token of the API: the row holds only its sha256; revoked tokens stay (revoked_at set)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
