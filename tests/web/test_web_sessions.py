"""Sessions live on the server: sign-out, deactivation, a new password and 退出所有设备 end them at once, and a
session ends by itself when idle or old. On both stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from conftest import PASSWORD, add_user
from subsidy_engine.web.models import LoginSession, User
from subsidy_engine.web.sessions import COOKIE, token_hash


def _signed_out(client: TestClient) -> bool:
    r = client.get("/uploads", follow_redirects=False)
    return r.status_code == 303 and r.headers["location"] == "/login"


def _copy(app: Any, b: Any) -> TestClient:
    """Another client holding a copy of `b`'s session cookie (a stolen or shared cookie)."""
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set(COOKIE, b.client.cookies[COOKIE])
    return thief


def test_a_copied_cookie_stops_working_for_get_and_post_after_sign_out(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    thief = _copy(app, b)
    assert thief.get("/uploads").status_code == 200
    csrf = b.token
    b.post("/logout")
    assert _signed_out(thief)
    r = thief.post("/uploads", data={"csrf": csrf}, files={"roster": ("r.csv", b"x")})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with app.state.sessions() as db:
        assert db.scalars(select(LoginSession)).all() == []


def test_the_cookie_is_a_random_token_and_the_database_holds_only_its_hash(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    token = browser("xinglong").client.cookies[COOKIE]
    assert len(token) >= 40
    with app.state.sessions() as db:
        row = db.scalars(select(LoginSession)).one()
    assert row.id == token_hash(token) and token not in (row.id, row.csrf)


def test_deactivating_a_user_ends_their_sessions(app: Any, browser: Any) -> None:
    add_user(app, "admin", "admin")
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    worker = browser("xinglong")
    admin = browser("admin")
    with app.state.sessions() as db:
        uid = db.scalar(select(User.id).where(User.name == "xinglong"))
    r = admin.post(f"/admin/users/{uid}/active")
    assert r.status_code == 200 and "停用" in r.text
    assert _signed_out(worker.client)
    with app.state.sessions() as db:
        assert db.scalars(select(LoginSession).where(LoginSession.user_id == uid)).all() == []


def test_a_new_password_ends_every_other_session_and_keeps_this_browser_signed_in(
    app: Any, browser: Any
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    here, elsewhere = browser("xinglong"), browser("xinglong")
    here.get("/account")
    r = here.post(
        "/account/password", {"current": "wrong one", "new": "brand new 42", "again": "brand new 42"}
    )
    assert r.status_code == 400 and "当前密码不正确" in r.text
    assert not _signed_out(elsewhere.client)
    r = here.post("/account/password", {"current": PASSWORD, "new": "brand new 42", "again": "brand new 42"})
    assert r.status_code == 200 and "其他设备上的登录已全部退出" in r.text
    assert _signed_out(elsewhere.client)
    assert not _signed_out(here.client)
    assert browser().sign_in("xinglong", PASSWORD).status_code == 401
    assert browser().sign_in("xinglong", "brand new 42").status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_user_only(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "shuanghe", "caseworker", "双河镇")
    office, home, other = browser("xinglong"), browser("xinglong"), browser("shuanghe")
    page = office.get("/account")
    assert "退出所有设备" in page.text
    r = office.post("/account/sessions")
    assert r.status_code == 200 and str(r.url).endswith("/login")
    assert _signed_out(office.client) and _signed_out(home.client)
    assert not _signed_out(other.client)


def _age(app: Any, **delta: dt.timedelta) -> None:
    with app.state.sessions() as db:
        for column, by in delta.items():
            rows = db.scalars(select(LoginSession)).all()
            for row in rows:
                db.execute(
                    update(LoginSession)
                    .where(LoginSession.id == row.id)
                    .values({column: getattr(row, column) - by})
                )
        db.commit()


def test_a_session_ends_after_the_idle_timeout(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    idle = app.state.settings.session_idle_seconds
    _age(app, seen_at=dt.timedelta(seconds=idle - 120))
    assert not _signed_out(b.client)  # used in time: still signed in, and the use is recorded
    _age(app, seen_at=dt.timedelta(seconds=idle - 120))
    assert not _signed_out(b.client)
    _age(app, seen_at=dt.timedelta(seconds=idle + 1))
    assert _signed_out(b.client)
    with app.state.sessions() as db:
        assert db.scalars(select(LoginSession)).all() == []


def test_a_session_ends_after_its_absolute_lifetime_even_when_in_use(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    _age(app, created_at=dt.timedelta(seconds=app.state.settings.session_max_seconds - 60))
    assert not _signed_out(b.client)
    _age(app, created_at=dt.timedelta(seconds=61))
    assert _signed_out(b.client)
