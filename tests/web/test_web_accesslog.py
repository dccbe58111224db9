"""The access log: what is recorded (ID masked), the chain `subsidy log verify` checks, a tampered row found,
the auditors' page; and two web processes on one database sharing sessions and sign-in counts."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from conftest import CSRF, PASSWORD, add_user, town_roster
from subsidy_engine.cli.main import main
from subsidy_engine.web import accesslog

ROOT = Path(__file__).resolve().parents[2]


def _run(app: Any, browser: Any, tmp_path: Path) -> tuple[Any, str]:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023"})
    return b, str(r.url).rsplit("/", 1)[1]


def test_sign_ins_runs_downloads_explains_and_user_changes_are_logged_and_chained(
    app: Any, browser: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    wrong = browser()
    assert wrong.sign_in("nobody", "wrong password").status_code == 401
    b, run_id = _run(app, browser, tmp_path)
    person = re.findall(r"\d{17}[\dX]", b.get(f"/runs/{run_id}/files/payments.csv").text)[0]
    assert b.post(f"/runs/{run_id}/explain", {"person": person}).status_code == 200
    add_user(app, "admin", "admin")
    admin = browser("admin")
    admin.post("/admin/users", {"name": "audit2", "role": "auditor", "town": "", "password": PASSWORD})
    log = list(accesslog.entries(app.state.engine))
    actions = [e["action"] for e in log]
    for expected in (
        "signin_failed",
        "signin",
        "upload",
        "run",
        "run_finished",
        "download",
        "explain",
        "user_add",
    ):
        assert expected in actions, expected
    assert all(e["address"] for e in log) and any(e["user_name"] == "xinglong" for e in log)
    explain = next(e for e in log if e["action"] == "explain")
    assert person not in explain["detail"] and person[:6] + "********" + person[-4:] in explain["detail"]
    settings = app.state.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    ok = CliRunner().invoke(main, ["log", "verify", "--data", str(settings.data_dir)])
    assert ok.exit_code == 0 and f"{len(log)} 条" in ok.stdout
    exported = CliRunner().invoke(
        main, ["log", "export", "--since", "2000-01-01", "--data", str(settings.data_dir)]
    )
    assert exported.exit_code == 0 and len(exported.stdout.strip().splitlines()) == len(log) + 1
    assert person not in exported.stdout

    auditor_name = "auditor"
    add_user(app, auditor_name, "auditor")
    page = browser(auditor_name).get("/log", params={"action": "explain"})
    assert page.status_code == 200 and page.text.count('data-action="explain"') == 1
    assert b.get("/log").status_code == 403  # caseworkers do not read it


def test_a_tampered_or_removed_row_makes_log_verify_fail(
    app: Any, browser: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    _run(app, browser, tmp_path)
    engine = app.state.engine
    n = len(list(accesslog.entries(engine)))
    assert n >= 4
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:  # the app cannot change it
        conn.execute(text("UPDATE access_log SET result = 'x' WHERE id = 2"))
    drop = {
        "sqlite": ["DROP TRIGGER access_log_no_update", "DROP TRIGGER access_log_no_delete"],
        "postgresql": ["DROP TRIGGER access_log_no_change ON access_log"],
    }[engine.dialect.name]
    with engine.begin() as conn:  # someone with the database's own password
        for statement in drop:
            conn.execute(text(statement))
        conn.execute(text("UPDATE access_log SET address = '10.9.9.9' WHERE id = 3"))
    settings = app.state.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    res = CliRunner().invoke(main, ["log", "verify", "--data", str(settings.data_dir)])
    assert res.exit_code == 1 and "第 3 条" in res.stderr and "被改动" in res.stderr
    with engine.begin() as conn:  # a removed row: the next one no longer follows
        conn.execute(text("DELETE FROM access_log WHERE id = 2"))
    broken = accesslog.verify(engine)[1]
    assert broken is not None and broken.id == 3 and "删除" in broken.reason


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_servers(settings: Any) -> Iterator[tuple[str, str]]:
    """Two `subsidy serve` processes (no workers) on one data folder and database, on loopback ports."""
    from subsidy_engine.web.store import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SUBSIDY_SECRET": "two-servers"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    ports = [_port(), _port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "subsidy_engine.cli",
                "serve",
                "--port",
                str(p),
                "--job-workers",
                "0",
                "--data",
                str(settings.data_dir),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.monotonic() + 60
        for url, proc in zip(urls, procs, strict=True):
            while True:
                try:
                    httpx.get(f"{url}/login", timeout=2)
                    break
                except httpx.HTTPError:
                    assert proc.poll() is None and time.monotonic() < deadline, "a server did not start"
                    time.sleep(0.2)
        yield urls[0], urls[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def _login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    token = CSRF.search(client.get("/login").text)
    assert token
    return client.post("/login", data={"csrf": token.group(1), "name": name, "password": password})


def test_two_web_processes_share_sessions_and_sign_in_counts(
    settings: Any, two_servers: tuple[str, str]
) -> None:
    from subsidy_engine.web.auth import create_user
    from subsidy_engine.web.store import make_engine, sessions

    engine = make_engine(settings.database_url)
    with sessions(engine)() as db:
        create_user(db, "xinglong", PASSWORD, "caseworker", "兴隆镇")
        db.commit()
    a_url, b_url = two_servers
    with (
        httpx.Client(base_url=a_url, follow_redirects=True) as a,
        httpx.Client(base_url=b_url, follow_redirects=True) as b,
        httpx.Client(base_url=a_url) as attacker_a,
        httpx.Client(base_url=b_url) as attacker_b,
    ):
        assert _login(a, "xinglong", PASSWORD).url.path == "/uploads"
        b.cookies = a.cookies
        assert b.get("/uploads").url.path == "/uploads"  # the session made by A is B's too
        a.post("/logout", data={"csrf": CSRF.search(a.get("/uploads").text).group(1)})  # type: ignore[union-attr]
        assert b.get("/uploads").url.path == "/login"  # and ended for both
        for _ in range(3):
            assert _login(attacker_a, "xinglong", "wrong").status_code == 401
        for _ in range(2):
            assert _login(attacker_b, "xinglong", "wrong").status_code == 401
        assert _login(attacker_a, "xinglong", PASSWORD).status_code == 429  # five failures across both
        assert _login(attacker_b, "xinglong", PASSWORD).status_code == 429
    signins = [e["action"] for e in accesslog.entries(engine) if e["action"].startswith("signin")]
    assert signins.count("signin_failed") == 5 and signins.count("signin_limited") == 2
    engine.dispose()
