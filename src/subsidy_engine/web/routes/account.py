"""Signing in and out, and the user's own account: a new password, "sign out everywhere"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from subsidy_engine.web import accesslog
from subsidy_engine.web.auth import (
    FORM_COOKIE,
    UserError,
    check_csrf,
    check_new_password,
    hash_password,
    login_of,
    verify_password,
)
from subsidy_engine.web.deps import DB, CurrentUser
from subsidy_engine.web.models import User
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.sessions import COOKIE, end_session, end_user_sessions, open_session
from subsidy_engine.web.signin import authenticate, client_address
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])


def _with_session(request: Request, token: str, target: str) -> Response:
    settings = request.app.state.settings
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        COOKIE,
        token,
        max_age=settings.session_max_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookie,
    )
    resp.delete_cookie(FORM_COOKIE)
    return resp


def _refusal(db: DB, name: str, password: str) -> str:
    """Why a sign-in failed, in words: a deactivated account says so, but only to whoever knows its password
    (an unknown name and a wrong password read the same)."""
    user = db.scalar(select(User).where(User.name == name))
    if user is not None and not user.active and verify_password(user.password_hash, password):
        return "该账号已停用,请联系管理员"
    return "用户名或密码错误"


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", {})


@router.post("/login")
def login(
    request: Request, db: DB, name: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    peer = request.client.host if request.client else None
    address = client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)
    name = name.strip()
    if not limiter.allowed(db, address, name):
        accesslog.record(
            request.app.state.engine,
            user=None,
            user_name=name,
            address=address,
            action="signin_limited",
            result="429",
        )
        return render(request, "login.html", {"error": "登录失败次数过多,请稍后再试"}, 429)
    user = authenticate(db, name, password)
    if user is None:
        limiter.failed(db, address, name)
        db.commit()
        accesslog.record(
            request.app.state.engine,
            user=None,
            user_name=name,
            address=address,
            action="signin_failed",
            result="401",
        )
        return render(request, "login.html", {"error": _refusal(db, name, password), "name": name}, 401)
    limiter.succeeded(db, address, name)
    old = login_of(request)
    if old is not None:  # a new session on sign-in: no fixation
        end_session(db, old.id)
    token = open_session(db, user)
    db.commit()
    accesslog.record(request.app.state.engine, user=user, address=address, action="signin")
    return _with_session(request, token, "/")


@router.post("/logout")
def logout(request: Request, db: DB) -> Response:
    login = login_of(request)
    if login is not None:
        end_session(db, login.id)
        db.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp


@router.get("/account")
def account(request: Request, user: CurrentUser) -> Response:
    return render(request, "account.html", {})


@router.post("/account/password")
def change_password(
    request: Request,
    db: DB,
    user: CurrentUser,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    again: Annotated[str, Form()],
) -> Response:
    """A new password ends every session of the user, this one included; this browser gets a new one."""
    try:
        if not verify_password(user.password_hash, current):
            raise UserError("当前密码不正确")
        if new != again:
            raise UserError("两次输入的新密码不一致")
        check_new_password(new)
    except UserError as exc:
        return render(request, "account.html", {"error": str(exc)}, 400)
    user.password_hash = hash_password(new)
    end_user_sessions(db, user.id)
    token = open_session(db, user)
    db.commit()
    log_event(request, user, "password", f"user:{user.id}")
    return _with_session(request, token, "/account?changed=1")


@router.post("/account/sessions")
def sign_out_everywhere(request: Request, db: DB, user: CurrentUser) -> Response:
    """退出所有设备: every session of the user ends, this one too."""
    end_user_sessions(db, user.id)
    db.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp
