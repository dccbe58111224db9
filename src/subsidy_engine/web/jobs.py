"""The job queue in the database: enqueue (refusing a duplicate run), claim with row locking, progress, cancel.

A job is a row of `jobs`. A worker claims the oldest queued job in one short transaction: on PostgreSQL
`SELECT … FOR UPDATE SKIP LOCKED` (several workers never wait on each other, never take the same row), on
SQLite `BEGIN IMMEDIATE` (the claim holds the database's write lock from its first read, so two workers
cannot both see the row as queued). Every piece of state lives in the row, so any number of web processes
and workers agree. The reaper (worker.py) fails the jobs whose worker stopped beating.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from subsidy_engine.errors import SubsidyError
from subsidy_engine.periods import parse_period
from subsidy_engine.web.models import Job, Upload, User, utcnow
from subsidy_engine.web.store import new_id

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
STATUS_TEXT = {
    "queued": "排队中",
    "running": "计算中",
    "done": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
}
STAGE_TEXT = {"read": "读取名册", "validate": "校验", "write": "写出文件"}


class DuplicateRun(ValueError):
    """The same upload and period is queued, running or done already (and 重新计算 was not asked)."""

    def __init__(self, job: Job) -> None:
        super().__init__(
            f"该名册的期间 {job.period} 已有计算({STATUS_TEXT[job.status]},编号 {job.id[:8]});"
            "如确需重新计算,请勾选“重新计算”后再提交"
        )
        self.job = job


def period_label(period: str) -> str:
    """The period as the engine names it (`2023`, `2023-09`), or the text as typed when it is not one."""
    try:
        return parse_period(period.strip()).label
    except (SubsidyError, ValueError):
        return period.strip()[:16]


def begin_locked(conn: Connection) -> None:
    """On SQLite, start a transaction that holds the database's write lock from its first statement (PostgreSQL
    locks rows instead: `FOR UPDATE SKIP LOCKED`)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def enqueue(db: Session, upload: Upload, period: str, user: User, *, force: bool = False) -> Job:
    """A queued run job (committed); DuplicateRun when the same upload and period is active or done."""
    label = period_label(period)
    db.execute(select(Upload.id).where(Upload.id == upload.id).with_for_update())  # one enqueue per upload
    if not force:
        same = db.scalars(
            select(Job)
            .where(Job.upload_id == upload.id, Job.period == label, Job.status.in_((*ACTIVE, "done")))
            .order_by(Job.created_at.desc())
        ).first()
        if same is not None:
            db.rollback()
            raise DuplicateRun(same)
    job = Job(
        id=new_id(),
        kind="run",
        status="queued",
        upload_id=upload.id,
        town=upload.town,
        user_id=user.id,
        period=label,
        stages=[],
        cancel_requested=False,
        created_at=utcnow(),
    )
    db.add(job)
    db.commit()
    return job


def claim(engine: Engine, worker: str) -> str | None:
    """Take the oldest queued job for `worker` (status running); its id, or None when the queue is empty."""
    now = utcnow()
    with engine.connect() as conn:
        begin_locked(conn)
        query = select(Job.id).where(Job.status == "queued").order_by(Job.created_at, Job.id).limit(1)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job_id = conn.scalar(query)
        if job_id is None:
            conn.rollback()
            return None
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", worker=worker, started_at=now, heartbeat_at=now, stage="排队结束")
        )
        conn.commit()
        return str(job_id)


def iso(when: dt.datetime) -> str:
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")


def stage_name(stage: str, done: int, total: int) -> str:
    if stage == "evaluate":
        return f"参考日 {min(done + 1, total)}/{total}"
    return STAGE_TEXT.get(stage, stage)


def record_stage(engine: Engine, job_id: str, name: str) -> bool:
    """Close the current stage and open `name`, beat the heart; True when a cancel was asked."""
    now = iso(utcnow())
    with engine.begin() as conn:
        row = conn.execute(select(Job.stages, Job.cancel_requested).where(Job.id == job_id)).one()
        stages = [list(s) for s in (row.stages or [])]
        if stages and stages[-1][0] == name:
            return bool(row.cancel_requested)
        if stages and stages[-1][2] is None:
            stages[-1][2] = now
        stages.append([name, now, None])
        conn.execute(
            update(Job).where(Job.id == job_id).values(stages=stages, stage=name, heartbeat_at=utcnow())
        )
        return bool(row.cancel_requested)


def finish(engine: Engine, job_id: str, status: str, error: str | None = None) -> None:
    now = utcnow()
    with engine.begin() as conn:
        stages = conn.scalar(select(Job.stages).where(Job.id == job_id)) or []
        stages = [list(s) for s in stages]
        if stages and stages[-1][2] is None:
            stages[-1][2] = iso(now)
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=status, error=error, finished_at=now, stages=stages, stage=STATUS_TEXT[status])
        )


def cancel(db: Session, job: Job) -> bool:
    """A queued job is cancelled at once; a running one is asked to stop at its next stage. False if finished."""
    if job.status == "queued":
        n = db.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "queued")
            .values(status="cancelled", finished_at=utcnow(), stage=STATUS_TEXT["cancelled"])
        )
        if getattr(n, "rowcount", 0):
            db.commit()
            return True
    if job.status in ACTIVE:
        db.execute(update(Job).where(Job.id == job.id, Job.status.in_(ACTIVE)).values(cancel_requested=True))
        db.commit()
        return True
    return False


def elapsed(start: str, end: str | None, now: dt.datetime | None = None) -> float:
    a = dt.datetime.fromisoformat(start)
    b = dt.datetime.fromisoformat(end) if end else (now or utcnow())
    return max(0.0, (b - a).total_seconds())


def job_view(job: Job) -> dict[str, Any]:
    """The job as the run page's poll and the API show it (no personal data in it)."""
    now = utcnow()
    return {
        "id": job.id,
        "status": job.status,
        "status_text": STATUS_TEXT.get(job.status, job.status),
        "period": job.period,
        "stage": job.stage,
        "error": job.error,
        "cancel_requested": bool(job.cancel_requested),
        "stages": [
            {"name": s[0], "seconds": round(elapsed(s[1], s[2], now), 1), "done": s[2] is not None}
            for s in (job.stages or [])
        ],
    }
