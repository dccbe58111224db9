"""Managing users and towns (admins only): create users, change role and town, reset a password, deactivate;
the towns users are bound to, with their 公示期 and 监督电话."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from subsidy_engine.web.auth import (
    UserError,
    check_csrf,
    check_new_password,
    create_user,
    hash_password,
    require,
)
from subsidy_engine.web.deps import DB, CurrentUser
from subsidy_engine.web.models import ROLE_TEXT, ROLES, TOWN_ROLES, Town, User
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.sessions import end_user_sessions
from subsidy_engine.web.templating import render

router = APIRouter(prefix="/admin", dependencies=[Depends(check_csrf)])


def _page(
    request: Request, db: DB, error: str | None = None, status: int = 200, done: str | None = None
) -> Response:
    users = db.scalars(select(User).order_by(User.name)).all()
    towns = db.scalars(select(Town.name).order_by(Town.name)).all()
    context = {"users": users, "towns": towns, "roles": ROLES, "error": error, "done": done}
    return render(request, "users.html", context, status)


def _role_and_town(db: DB, role: str, town: str) -> str | None:
    """The town for this role, checked against the towns table (messages for the web form, no CLI flags)."""
    town = town.strip()
    if role not in ROLES:
        raise UserError("请选择角色")
    if role not in TOWN_ROLES:
        return (
            None  # only a caseworker or a reviewer is bound to a town; one picked for another role is ignored
        )
    if not town:
        raise UserError(f"{ROLE_TEXT[role]}必须选择所属乡镇")
    if db.get(Town, town) is None:
        raise UserError(f"没有名为“{town}”的乡镇;请从列表中选择,或先在“乡镇”页面新增")
    return town


@router.get("/users")
def users(request: Request, db: DB, user: CurrentUser) -> Response:
    require(user, "admin")
    return _page(request, db)


@router.post("/users")
def add_user(
    request: Request,
    db: DB,
    user: CurrentUser,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    town: Annotated[str, Form()] = "",
) -> Response:
    require(user, "admin")
    try:
        made = create_user(db, name, password, role, _role_and_town(db, role, town))
    except UserError as exc:
        db.rollback()
        log_event(
            request, user, "user_add", f"user:{name.strip()[:64]}", detail={"role": role}, result="refused"
        )
        return _page(request, db, str(exc), 400)
    db.commit()
    log_event(
        request, user, "user_add", f"user:{made.id} {made.name}", detail={"role": role, "town": made.town}
    )
    return RedirectResponse("/admin/users", status_code=303)


def _other(db: DB, user: User, user_id: int) -> User:
    require(user, "admin")
    target = db.get(User, user_id)
    if target is None:
        raise HTTPException(404)
    return target


@router.post("/users/{user_id}")
def edit_user(
    request: Request,
    db: DB,
    user: CurrentUser,
    user_id: int,
    role: Annotated[str, Form()],
    town: Annotated[str, Form()] = "",
) -> Response:
    """A new role or town; the user's sessions end, so the next page is seen with the new rights."""
    target = _other(db, user, user_id)
    if target.id == user.id:
        return _page(request, db, "不能修改自己的角色", 400)
    try:
        target.town = _role_and_town(db, role, town)
    except UserError as exc:
        return _page(request, db, str(exc), 400)
    target.role = role
    end_user_sessions(db, target.id)
    db.commit()
    log_event(
        request,
        user,
        "user_role",
        f"user:{target.id} {target.name}",
        detail={"role": role, "town": target.town},
    )
    return _page(request, db, done=f"已保存 {target.name} 的角色和乡镇;该用户需重新登录")


@router.post("/users/{user_id}/password")
def reset_password(
    request: Request, db: DB, user: CurrentUser, user_id: int, password: Annotated[str, Form()]
) -> Response:
    """An admin sets a new password (the user was locked out or left); every session of the user ends."""
    target = _other(db, user, user_id)
    try:
        check_new_password(password)
    except UserError as exc:
        return _page(request, db, str(exc), 400)
    target.password_hash = hash_password(password)
    end_user_sessions(db, target.id)
    db.commit()
    log_event(request, user, "user_password_reset", f"user:{target.id} {target.name}")
    return _page(request, db, done=f"已重设 {target.name} 的密码;请当面或电话告知本人,并请其登录后自行修改")


@router.post("/users/{user_id}/active")
def toggle(request: Request, db: DB, user: CurrentUser, user_id: int) -> Response:
    target = _other(db, user, user_id)
    if target.id == user.id:
        return _page(request, db, "不能停用自己的账号", 400)
    target.active = not target.active
    if not target.active:  # a deactivated user is signed out everywhere at once
        end_user_sessions(db, target.id)
    db.commit()
    log_event(
        request, user, "user_active", f"user:{target.id} {target.name}", detail={"active": target.active}
    )
    return RedirectResponse("/admin/users", status_code=303)


def _towns_page(request: Request, db: DB, error: str | None = None, status: int = 200) -> Response:
    towns = db.scalars(select(Town).order_by(Town.name)).all()
    return render(request, "towns.html", {"towns": towns, "error": error}, status)


@router.get("/towns")
def towns(request: Request, db: DB, user: CurrentUser) -> Response:
    require(user, "admin")
    return _towns_page(request, db)


@router.post("/towns")
def add_town(
    request: Request,
    db: DB,
    user: CurrentUser,
    name: Annotated[str, Form()],
    publicity: Annotated[str, Form()] = "",
    hotline: Annotated[str, Form()] = "",
) -> Response:
    require(user, "admin")
    name = name.strip()
    if not name or len(name) > 64:
        return _towns_page(request, db, "请填写乡镇全称(不超过 64 个字)", 400)
    if db.get(Town, name) is not None:
        return _towns_page(request, db, f"乡镇“{name}”已存在", 400)
    db.add(Town(name=name, publicity=publicity.strip()[:100] or None, hotline=hotline.strip()[:40] or None))
    db.commit()
    log_event(request, user, "town_add", f"town:{name}")
    return RedirectResponse("/admin/towns", status_code=303)


@router.post("/towns/{name}")
def edit_town(
    request: Request,
    db: DB,
    user: CurrentUser,
    name: str,
    publicity: Annotated[str, Form()] = "",
    hotline: Annotated[str, Form()] = "",
) -> Response:
    require(user, "admin")
    town = db.get(Town, name)
    if town is None:
        raise HTTPException(404)
    town.publicity = publicity.strip()[:100] or None
    town.hotline = hotline.strip()[:40] or None
    db.commit()
    log_event(request, user, "town_edit", f"town:{name}")
    return RedirectResponse("/admin/towns", status_code=303)
