"""The worker: claims queued jobs and runs them, beats its heart while it works, reaps dead workers' jobs.

`subsidy worker` runs `work()` until stopped; `subsidy serve` starts one in a child process by default. At
start and between jobs the reaper looks at every running job: one whose worker stopped beating for
`job_heartbeat_timeout` seconds, or whose worker was on this machine and is gone, is marked failed with the
reason, and its half-written run folder is removed (a run is whole or failed, never left "running").
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from subsidy_engine.web import accesslog, jobs
from subsidy_engine.web.config import Settings
from subsidy_engine.web.models import Job, Run, Upload, User, utcnow
from subsidy_engine.web.services.runs import execute_run
from subsidy_engine.web.store import make_engine
from subsidy_engine.web.store import sessions as make_sessions

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0


class Cancelled(Exception):
    """Raised from the progress callback when the job's cancel was asked."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _alive_here(worker: str | None) -> bool | None:
    """True/False for a worker of this machine (is its process there?), None for another machine's."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    if host != socket.gethostname():
        return None
    pid = rest.partition(":")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _aware(when: dt.datetime | None) -> dt.datetime:
    if when is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def remove_run_folder(data_dir: Path, job_id: str) -> None:
    runs = data_dir / "runs"
    shutil.rmtree(runs / job_id, ignore_errors=True)
    if runs.is_dir():
        for tmp in runs.glob(f".{job_id}.*"):
            shutil.rmtree(tmp, ignore_errors=True)


def reap(sessions: sessionmaker[Session], settings: Settings, *, me: str = "") -> list[str]:
    """Fail the running jobs whose worker is gone; returns their ids."""
    limit = dt.timedelta(seconds=settings.job_heartbeat_timeout)
    reaped = []
    with sessions() as db:
        for job in db.scalars(select(Job).where(Job.status == "running")).all():
            if job.worker == me:
                continue
            alive = _alive_here(job.worker)
            stale = utcnow() - _aware(job.heartbeat_at) > limit
            if alive is False or stale:
                reaped.append(job.id)
                run = db.get(Run, job.id)
                if run is not None:  # the run was recorded; only the job's own last write was lost
                    status, error = ("done" if run.status == "done" else "failed"), run.error
                else:
                    remove_run_folder(settings.data_dir, job.id)
                    status = "failed"
                    when = _aware(job.heartbeat_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
                    error = f"计算进程意外中断(最后一次心跳 {when},阶段:{job.stage or '开始'}),未生成任何文件;请重新计算"
                db.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == "running", Job.worker == job.worker)
                    .values(status=status, error=error, finished_at=utcnow(), stage=jobs.STATUS_TEXT[status])
                )
                log.warning("任务 %s 的计算进程已不在,标记为%s", job.id[:8], jobs.STATUS_TEXT[status])
        db.commit()
    return reaped


class Heart(threading.Thread):
    """Writes the running job's heartbeat every HEARTBEAT_SECONDS until stopped."""

    def __init__(self, engine: Engine, job_id: str, every: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id[:8]}")
        self.engine, self.job_id, self.every = engine, job_id, every
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(Job).where(Job.id == self.job_id).values(heartbeat_at=utcnow()))
            except Exception:  # a missed beat is not fatal; the reaper allows several
                log.exception("心跳写入失败")


def execute(sessions: sessionmaker[Session], settings: Settings, job_id: str) -> str:
    """Run one claimed job to its end; its final status."""
    engine = sessions.kw["bind"]
    heart = Heart(engine, job_id, min(HEARTBEAT_SECONDS, settings.job_heartbeat_timeout / 3))
    heart.start()

    def progress(stage: str, done: int, total: int) -> None:
        if jobs.record_stage(engine, job_id, jobs.stage_name(stage, done, total)):
            raise Cancelled()

    try:
        with sessions() as db:
            job = db.get(Job, job_id)
            assert job is not None
            upload, user = db.get(Upload, job.upload_id), db.get(User, job.user_id)
            assert upload is not None and user is not None
            run = execute_run(
                settings.data_dir, db, upload, job.period, user, run_id=job.id, progress=progress
            )
            status, error = run.status, run.error
    except Cancelled:
        status, error = "cancelled", "已按要求取消,未生成任何文件"
    except Exception as exc:
        log.exception("任务 %s 出错", job_id[:8])
        remove_run_folder(settings.data_dir, job_id)
        status, error = (
            "failed",
            f"服务器内部错误({type(exc).__name__}),未生成任何文件;请稍后重试或联系管理员",
        )
    finally:
        heart.stop.set()
    jobs.finish(engine, job_id, status, error)
    _log_finish(sessions, job_id, status)
    return status


def _log_finish(sessions: sessionmaker[Session], job_id: str, status: str) -> None:
    with sessions() as db:
        job = db.get(Job, job_id)
        user = db.get(User, job.user_id) if job else None
    accesslog.record(
        sessions.kw["bind"],
        user=user,
        address="worker",
        action="run_finished",
        target=f"run:{job_id}",
        result=status,
    )


def work_once(sessions: sessionmaker[Session], settings: Settings, worker: str) -> str | None:
    """Claim and run one job; its id, or None when none was queued."""
    job_id = jobs.claim(sessions.kw["bind"], worker)
    if job_id is not None:
        execute(sessions, settings, job_id)
    return job_id


def drain(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Run queued jobs in this thread until none is left (tests; `subsidy worker --once`)."""
    me = worker_name()
    n = 0
    while work_once(sessions, settings, me) is not None:
        n += 1
    return n


class Queue:
    """What a web process does after it queued a job: nothing (workers poll the table every second), or in
    tests (`inline`) run the queue at once in the calling thread, through the same code as a worker."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions, self.settings = sessions, settings
        self.inline = False

    def notify(self) -> None:
        if self.inline:
            drain(self.sessions, self.settings)


def work(settings: Settings, stop: threading.Event, *, poll: float = 1.0) -> None:
    """The worker's loop: reap, then claim and run jobs until `stop` is set."""
    engine = make_engine(settings.database_url)
    factory = make_sessions(engine)
    me = worker_name()
    log.info("计算进程 %s 启动", me)
    reaped_at = 0.0

    try:
        while not stop.is_set():
            if time.monotonic() - reaped_at > settings.job_heartbeat_timeout / 2:
                reap(factory, settings, me=me)
                reaped_at = time.monotonic()
            if work_once(factory, settings, me) is None:
                stop.wait(poll)
    finally:
        engine.dispose()
