"""Runs as jobs: queued then computed by a worker, stages recorded, duplicates refused unless asked, cancel,
and a worker killed in the middle of a run leaves a failed job and no files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from conftest import SEED, add_user, town_roster
from subsidy_engine.web.models import Job, Run, StoredFile, Upload, User
from subsidy_engine.web.worker import drain, reap


def _upload(app: Any, browser: Any, tmp_path: Path) -> tuple[Any, str]:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    return b, str(r.url).rsplit("/", 1)[1]


def test_a_run_is_a_job_with_its_stages_and_the_same_period_twice_needs_rerun(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b, upload_id = _upload(app, browser, tmp_path)
    app.state.queue.inline = False  # queued only: a worker takes it below
    r = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    run_id = str(r.url).rsplit("/", 1)[1]
    assert r.status_code == 200 and 'id="job-status">排队中<' in r.text and "/static/job.js" in r.text
    assert b.get(f"/runs/{run_id}/status").json()["status"] == "queued"
    again = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    assert again.status_code == 409 and "重新计算" in again.text
    assert drain(app.state.sessions, app.state.settings) == 1
    status = b.get(f"/runs/{run_id}/status").json()
    names = [s["name"] for s in status["stages"]]
    assert status["status"] == "done" and names[:2] == ["读取名册", "校验"] and names[-1] == "写出文件"
    assert any(n.startswith("参考日 ") for n in names) and all(s["done"] for s in status["stages"])
    assert 'id="totals-programs"' in b.get(f"/runs/{run_id}").text
    refused = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    assert refused.status_code == 409
    forced = b.post(f"/uploads/{upload_id}/runs", {"period": "2023", "force": "1"})
    assert forced.status_code == 200
    with app.state.sessions() as db:
        assert len(db.scalars(select(Job)).all()) == 2


def test_a_queued_job_is_cancelled_and_another_town_cannot_see_it(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b, upload_id = _upload(app, browser, tmp_path)
    app.state.queue.inline = False
    run_id = str(b.post(f"/uploads/{upload_id}/runs", {"period": "2023"}).url).rsplit("/", 1)[1]
    add_user(app, "shuanghe", "caseworker", "双河镇")
    other = browser("shuanghe")
    assert other.get(f"/runs/{run_id}/status").status_code == 404
    assert other.post(f"/runs/{run_id}/cancel").status_code == 404
    r = b.post(f"/runs/{run_id}/cancel")
    assert r.status_code == 200 and "已取消" in r.text
    assert drain(app.state.sessions, app.state.settings) == 0
    with app.state.sessions() as db:
        assert db.get(Job, run_id).status == "cancelled" and db.get(Run, run_id) is None  # type: ignore[union-attr]


def test_a_worker_killed_mid_run_leaves_a_failed_job_and_no_files(
    app: Any, browser: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """`subsidy worker` in a child process, killed (SIGKILL) while it evaluates the seed roster; the reaper of
    the next worker marks the job failed with the reason, and nothing of the run stays in the data folder."""
    settings = app.state.settings
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(SEED)
    upload_id = str(r.url).rsplit("/", 1)[1]
    app.state.queue.inline = False
    run_id = str(b.post(f"/uploads/{upload_id}/runs", {"period": "2023"}).url).rsplit("/", 1)[1]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SUBSIDY_SECRET": "x"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), env.get("PYTHONPATH", "")]
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "subsidy_engine.cli", "worker", "--data", str(settings.data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            stage = b.get(f"/runs/{run_id}/status").json()["stage"] or ""
            if stage.startswith("参考日") or stage == "写出文件":
                break
            assert child.poll() is None and time.monotonic() < deadline, "the worker did not start the run"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    with app.state.sessions() as db:
        assert db.get(Job, run_id).status == "running"  # type: ignore[union-attr]
    assert reap(app.state.sessions, settings) == [run_id]  # its process is gone: no need to wait
    status = b.get(f"/runs/{run_id}/status").json()
    assert status["status"] == "failed" and "计算进程意外中断" in status["error"]
    page = b.get(f"/runs/{run_id}")
    assert "计算进程意外中断" in page.text
    with app.state.sessions() as db:
        assert db.get(Run, run_id) is None and not db.scalars(select(StoredFile)).all()
    assert list((settings.data_dir / "runs").iterdir()) == []


def test_a_job_whose_heartbeat_stopped_on_another_machine_is_failed(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    import datetime as dt

    b, upload_id = _upload(app, browser, tmp_path)
    app.state.queue.inline = False
    run_id = str(b.post(f"/uploads/{upload_id}/runs", {"period": "2023"}).url).rsplit("/", 1)[1]
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=app.state.settings.job_heartbeat_timeout + 5)
    with app.state.sessions() as db:
        job = db.get(Job, run_id)
        assert job is not None
        job.status, job.worker, job.heartbeat_at = "running", "elsewhere:1:abc", old
        db.commit()
        assert db.scalars(select(Upload)).one() and db.scalars(select(User)).one()
    (app.state.settings.data_dir / "runs" / f".{run_id}.x.tmp").mkdir(parents=True)
    assert reap(app.state.sessions, app.state.settings) == [run_id]
    with app.state.sessions() as db:
        assert db.get(Job, run_id).status == "failed"  # type: ignore[union-attr]
    assert list((app.state.settings.data_dir / "runs").iterdir()) == []
