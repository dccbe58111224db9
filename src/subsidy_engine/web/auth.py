"""Users and roles, passwords, the signed-in user of a request, and CSRF.

Passwords are hashed with argon2id. Sessions live on the server (sessions.py; the gate middleware finds a
request's session before anything else runs). Every POST form carries a CSRF token in a hidden `csrf` field
and is refused (403) without it: the session's own token once signed in; on the sign-in page, a random token
kept in a signed cookie of its own (`subsidy_form`), so no anonymous visitor ever gets a row in the database.

Roles: a caseworker (乡镇经办人) is bound to one 乡镇 and sees only that town's uploads, runs and files (another
town's are "not found", 404, so their existence is not revealed); a reviewer (审核人) is bound to one 乡镇 in the
same way, reads its runs and approves or returns them (release/states.py); an auditor (审计人员) reads every
town's runs, re-runs them and compares paid lists; an admin (管理员) manages users.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from subsidy_engine.web.models import ROLE_TEXT, ROLES, TOWN_ROLES, User
from subsidy_engine.web.sessions import Login
from subsidy_engine.web.store import ensure_town

_hasher = PasswordHasher()
MIN_PASSWORD = 8


class NotSignedIn(Exception):
    """Raised by `current_user` when there is no valid session; the app redirects to the sign-in page."""


class UserError(ValueError):
    """A user that cannot be created as asked (message for a person)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")


def create_user(db: Session, name: str, password: str, role: str, town: str | None) -> User:
    name = name.strip()
    town = (town or "").strip() or None
    if not name:
        raise UserError("用户名不能为空")
    if role not in ROLES:
        raise UserError(f"角色必须是 {'、'.join(ROLES)} 之一")
    if role in TOWN_ROLES and not town:
        raise UserError(f"{ROLE_TEXT[role]}必须指定所属乡镇(--town)")
    if role not in TOWN_ROLES and town:
        raise UserError("只有乡镇经办人和审核人绑定乡镇;审计人员和管理员不指定 --town")
    check_new_password(password)
    if db.scalar(select(User).where(User.name == name)) is not None:
        raise UserError(f"用户 {name} 已存在")
    ensure_town(db, town)
    user = User(name=name, password_hash=hash_password(password), role=role, town=town, active=True)
    db.add(user)
    db.flush()
    return user


FORM_COOKIE = "subsidy_form"
FORM_TOKEN_SECONDS = 12 * 3600


def login_of(request: Request) -> Login | None:
    """The request's live session, as the gate middleware found it (None: not signed in)."""
    login = request.scope.get("subsidy.login")
    return login if isinstance(login, Login) else None


def _signer(request: Request) -> TimestampSigner:
    return TimestampSigner(request.app.state.settings.secret_key, salt="subsidy-form")


def _form_token(request: Request) -> str | None:
    """The sign-in form's token from its signed cookie, if the cookie is there, genuine and recent."""
    raw = request.cookies.get(FORM_COOKIE)
    if not raw:
        return None
    try:
        return _signer(request).unsign(raw, max_age=FORM_TOKEN_SECONDS).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None


def csrf_token(request: Request) -> str:
    """The token the forms of this page carry: the session's, or (signed out) the sign-in form's."""
    login = login_of(request)
    if login is not None:
        return login.csrf
    token = getattr(request.state, "form_token", None) or _form_token(request)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_form_token = True
    request.state.form_token = token
    return token


def set_form_cookie(request: Request, response: Response) -> None:
    """Send the sign-in form's token when `csrf_token` made a new one for this page."""
    if getattr(request.state, "new_form_token", False):
        signed = _signer(request).sign(request.state.form_token).decode("ascii")
        response.set_cookie(
            FORM_COOKIE,
            signed,
            max_age=FORM_TOKEN_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.secure_cookie,
        )


async def check_csrf(request: Request) -> None:
    """A router dependency: every POST must carry the page's token in its `csrf` form field."""
    if request.method != "POST":
        return
    form = await request.form()
    sent = form.get("csrf")
    login = login_of(request)
    expected = login.csrf if login is not None else _form_token(request)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not secrets.compare_digest(sent, expected)
    ):
        raise HTTPException(403, "表单已失效(CSRF 校验失败),请刷新页面后重试")


def current_user(request: Request, db: Session) -> User:
    login = login_of(request)
    user = db.get(User, login.user_id) if login is not None else None
    if user is None or not user.active:
        raise NotSignedIn()
    return user


def require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise HTTPException(403, "您的角色无权进行此操作")


def town_clause(user: User, column: Any) -> Any:
    """The same rule as a SQL condition on a `town` column (for lists)."""
    if user.role == "auditor":
        return true()
    if user.role in TOWN_ROLES:
        return column == user.town
    return false()


def town_filter(user: User) -> Callable[[str | None], bool]:
    """Which towns' data this user may read: a caseworker or reviewer their own, auditors all, admins none."""
    if user.role == "auditor":
        return lambda town: True
    if user.role in TOWN_ROLES:
        return lambda town: town is not None and town == user.town
    return lambda town: False
