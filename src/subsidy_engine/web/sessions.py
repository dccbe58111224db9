"""Sessions kept on the server: the cookie holds a random token, the `sessions` table its sha256.

A session ends when its row goes: on sign-out, on "sign out everywhere", when the user's password changes or
an admin deactivates the user, after `session_idle_seconds` without a request and `session_max_seconds` after
sign-in whatever happens. Each session carries its own CSRF token for the forms it is shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from subsidy_engine.web.config import Settings
from subsidy_engine.web.models import LoginSession, User, utcnow

COOKIE = "subsidy_session"
TOUCH_EVERY = dt.timedelta(seconds=60)  # seen_at is written at most once a minute per session


@dataclass(frozen=True)
class Login:
    """What a request knows about its session (a snapshot, free of any database session)."""

    id: str
    user_id: int
    csrf: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _aware(when: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were written in UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def open_session(db: Session, user: User) -> str:
    """A new session for `user`; returns the cookie's token (the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(
        LoginSession(
            id=token_hash(token), user_id=user.id, csrf=secrets.token_urlsafe(32), created_at=now, seen_at=now
        )
    )
    return token


def find_session(db: Session, token: str, settings: Settings) -> Login | None:
    """The live session of a cookie's token, its last use recorded; an expired one is deleted (and commits)."""
    row = db.get(LoginSession, token_hash(token))
    if row is None:
        return None
    now = utcnow()
    user = db.get(User, row.user_id)
    idle = now - _aware(row.seen_at) > dt.timedelta(seconds=settings.session_idle_seconds)
    old = now - _aware(row.created_at) > dt.timedelta(seconds=settings.session_max_seconds)
    if idle or old or user is None or not user.active:
        db.delete(row)
        db.commit()
        return None
    if now - _aware(row.seen_at) > TOUCH_EVERY:
        row.seen_at = now
        db.commit()
    return Login(row.id, row.user_id, row.csrf)


def end_session(db: Session, session_id: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.id == session_id))


def end_user_sessions(db: Session, user_id: int) -> None:
    """Every session of a user ends (sign out everywhere, a new password, deactivation)."""
    db.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
