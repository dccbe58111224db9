"""Users and roles, sessions, CSRF and the sign-in rate limit.

Passwords are hashed with argon2id. The session is a signed cookie (Starlette's SessionMiddleware:
HttpOnly, SameSite=Lax) holding the user id and a per-session CSRF token; every POST form carries the token
in a hidden `csrf` field and is refused (403) without it. Failed sign-ins are limited per client address and
user name (5 a minute by default): the sixth gets 429 before the password is even checked.

Roles: a caseworker (乡镇经办人) is bound to one 乡镇 and sees only that town's uploads, runs and files (another
town's are "not found", 404, so their existence is not revealed); an auditor (审计人员) reads every town's runs,
re-runs them and compares paid lists; an admin (管理员) manages users.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from subsidy_engine.web.models import ROLES, User

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


def create_user(db: Session, name: str, password: str, role: str, town: str | None) -> User:
    from subsidy_engine.web.store import ensure_town

    name = name.strip()
    town = (town or "").strip() or None
    if not name:
        raise UserError("用户名不能为空")
    if role not in ROLES:
        raise UserError(f"角色必须是 {'、'.join(ROLES)} 之一")
    if role == "caseworker" and not town:
        raise UserError("乡镇经办人必须指定所属乡镇(--town)")
    if role != "caseworker" and town:
        raise UserError("只有乡镇经办人绑定乡镇;审计人员和管理员不指定 --town")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    if db.scalar(select(User).where(User.name == name)) is not None:
        raise UserError(f"用户 {name} 已存在")
    ensure_town(db, town)
    user = User(name=name, password_hash=hash_password(password), role=role, town=town, active=True)
    db.add(user)
    db.flush()
    return user


class SignInLimiter:
    """Failed sign-ins per (client address, user name) in a moving window, with the `limits` library."""

    def __init__(self, rate: str) -> None:
        self.item = parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def allowed(self, ip: str, name: str) -> bool:
        return self.limiter.test(self.item, ip, name)

    def failed(self, ip: str, name: str) -> None:
        self.limiter.hit(self.item, ip, name)

    def reset(self) -> None:
        self.limiter.storage.reset()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """A router dependency: every POST must carry the session's token in its `csrf` form field."""
    if request.method != "POST":
        return
    form = await request.form()
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not secrets.compare_digest(sent, expected)
    ):
        raise HTTPException(403, "表单已失效(CSRF 校验失败),请刷新页面后重试")


def sign_in(request: Request, user: User) -> None:
    request.session.clear()  # a new session (and token) on sign-in: no fixation
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)


def current_user(request: Request, db: Session) -> User:
    uid = request.session.get("uid")
    user = db.get(User, uid) if isinstance(uid, int) else None
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
    if user.role == "caseworker":
        return column == user.town
    return false()


def town_filter(user: User) -> Callable[[str | None], bool]:
    """Which towns' data this user may read: a caseworker their own, auditors all, admins none."""
    if user.role == "auditor":
        return lambda town: True
    if user.role == "caseworker":
        return lambda town: town is not None and town == user.town
    return lambda town: False
