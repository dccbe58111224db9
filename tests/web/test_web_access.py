"""Users, roles and sessions, on both stores: who may see and do what, sign-in limits, CSRF, cookies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from conftest import PASSWORD, add_user, town_roster
from subsidy_engine.cli.main import main
from subsidy_engine.web.models import User


def _run_for(b: Any, roster: Path, period: str = "2023") -> tuple[str, str]:
    r = b.upload(roster)
    assert r.status_code == 200 and "/uploads/" in str(r.url), r.text
    upload_id = str(r.url).rsplit("/", 1)[1]
    r = b.post(f"/uploads/{upload_id}/runs", {"period": period})
    assert r.status_code == 200 and "/runs/" in str(r.url), r.text
    return upload_id, str(r.url).rsplit("/", 1)[1]


def test_a_caseworker_of_another_town_gets_404_on_the_run_its_files_and_its_upload(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "shuanghe", "caseworker", "双河镇")
    add_user(app, "auditor", "auditor")
    upload_id, run_id = _run_for(browser("xinglong"), town_roster(tmp_path, "兴隆镇"))
    other = browser("shuanghe")
    for url in (
        f"/uploads/{upload_id}",
        f"/runs/{run_id}",
        f"/runs/{run_id}/files/payments.csv",
        f"/runs/{run_id}/files/publish.csv",
        f"/runs/{run_id}/files/manifest.json",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/runs/{run_id}/explain", {"household": "H001"}).status_code == 404
    assert other.post(f"/uploads/{upload_id}/runs", {"period": "2023"}).status_code == 404
    assert run_id not in other.get("/runs").text and upload_id not in other.get("/uploads").text
    auditor = browser("auditor")
    assert auditor.get(f"/runs/{run_id}").status_code == 200
    assert auditor.get(f"/runs/{run_id}/files/payments.csv").status_code == 200
    assert run_id in auditor.get("/runs").text


def test_a_caseworker_may_not_rerun_or_diff_and_an_auditor_may_not_upload_a_roster(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "auditor", "auditor")
    own = browser("xinglong")
    _, run_id = _run_for(own, town_roster(tmp_path, "兴隆镇"))
    assert own.post(f"/runs/{run_id}/rerun").status_code == 403
    assert own.get("/admin/users").status_code == 403
    assert browser("auditor").upload(town_roster(tmp_path, "兴隆镇", seq=5)).status_code == 403


def test_five_failed_sign_ins_a_minute_then_429_in_chinese(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser()
    for _ in range(5):
        r = b.sign_in("xinglong", "wrong password")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = b.sign_in("xinglong", PASSWORD)  # even the right password waits out the window
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    assert browser().sign_in("auditor-x", "whatever1").status_code == 401  # another name is not blocked


def test_a_post_without_the_session_csrf_token_is_refused(app: Any, browser: Any, tmp_path: Path) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser()
    b.get("/login")
    r = b.client.post("/login", data={"name": "xinglong", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    b = browser("xinglong")
    with town_roster(tmp_path, "兴隆镇").open("rb") as f:
        r = b.client.post("/uploads", data={"csrf": "forged"}, files={"roster": ("r.csv", f)})
    assert r.status_code == 403
    uploads = app.state.settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_the_session_cookie_is_httponly_and_samesite_and_signing_out_ends_it(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser()
    b.get("/login")
    r = b.client.post(
        "/login", data={"csrf": b.token, "name": "xinglong", "password": PASSWORD}, follow_redirects=False
    )
    cookie = r.headers["set-cookie"].lower()
    assert r.status_code == 303 and "httponly" in cookie and "samesite=lax" in cookie
    page = b.get("/uploads")
    assert (
        page.headers["x-frame-options"] == "DENY"
        and "default-src 'self'" in page.headers["content-security-policy"]
    )
    b.post("/logout")
    r = b.client.get("/uploads", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_an_admin_adds_a_caseworker_who_then_signs_in_bound_to_the_town(app: Any, browser: Any) -> None:
    add_user(app, "admin", "admin")
    admin = browser("admin")
    r = admin.post("/admin/users", {"name": "new", "role": "caseworker", "town": "", "password": PASSWORD})
    assert r.status_code == 400 and "必须选择所属乡镇" in r.text and "--town" not in r.text
    r = admin.post(
        "/admin/users", {"name": "new", "role": "caseworker", "town": "双河镇", "password": PASSWORD}
    )
    assert r.status_code == 400 and "没有名为“双河镇”的乡镇" in r.text  # picked from the towns table
    r = admin.post("/admin/towns", {"name": "双河镇", "publicity": "7 天", "hotline": "023-71234567"})
    assert r.status_code == 200 and 'data-town="双河镇"' in r.text
    r = admin.post(
        "/admin/users", {"name": "new", "role": "caseworker", "town": "双河镇", "password": PASSWORD}
    )
    assert r.status_code == 200 and "双河镇" in r.text
    assert "双河镇" in browser("new").get("/uploads").text
    assert admin.get("/uploads").status_code == 403
    with app.state.sessions() as db:
        user = db.scalar(select(User).where(User.name == "new"))
        assert user is not None and user.password_hash.startswith("$argon2id$")


def test_users_add_and_list_on_the_command_line(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the SQLite file in --data, whatever the shell has
    data = str(tmp_path / "data")
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["users", "add", "admin", "--role", "admin", "--password-stdin", "--data", data],
        input="s3cret-pass\n",
    )
    assert r.exit_code == 0, r.output
    assert r.stdout == "已新增用户 admin(admin)\n"
    r = runner.invoke(
        main,
        ["users", "add", "w", "--role", "caseworker", "--password-stdin", "--data", data],
        input="s3cret-pass\n",
    )
    assert r.exit_code == 2 and "乡镇经办人必须指定所属乡镇" in r.stderr
    r = runner.invoke(main, ["users", "list", "--data", data])
    assert r.exit_code == 0
    assert re.fullmatch(r"用户名\s+角色\s+乡镇\s+状态\nadmin\s+admin\s+启用\n", r.stdout), r.stdout
    r = runner.invoke(main, ["db", "upgrade", "--data", data])
    assert r.exit_code == 0 and r.stdout == "数据库结构已是最新\n"
