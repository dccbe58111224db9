"""Managing users (admins only): list, create, deactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from subsidy_engine.web.app import render
from subsidy_engine.web.auth import UserError, check_csrf, create_user, require
from subsidy_engine.web.deps import DB, CurrentUser
from subsidy_engine.web.models import ROLES, Town, User
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.sessions import end_user_sessions

router = APIRouter(prefix="/admin", dependencies=[Depends(check_csrf)])


def _page(request: Request, db: DB, error: str | None = None, status: int = 200) -> Response:
    users = db.scalars(select(User).order_by(User.name)).all()
    towns = db.scalars(select(Town.name).order_by(Town.name)).all()
    return render(
        request, "users.html", {"users": users, "towns": towns, "roles": ROLES, "error": error}, status
    )


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
        made = create_user(db, name, password, role, town)
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


@router.post("/users/{user_id}/active")
def toggle(request: Request, db: DB, user: CurrentUser, user_id: int) -> Response:
    require(user, "admin")
    target = db.get(User, user_id)
    if target is None:
        raise HTTPException(404)
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
