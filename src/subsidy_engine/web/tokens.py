"""The API's bearer tokens: made for a user by `subsidy users token NAME`, kept only as a sha256, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from subsidy_engine.web.models import ApiToken, User, utcnow

PREFIX = "sbt_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_token(db: Session, user: User) -> str:
    """A new token for `user` (the caller commits); the only time it is ever seen whole."""
    token = PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=token_hash(token), created_at=utcnow()))
    return token


def revoke_tokens(db: Session, user: User) -> int:
    """Every live token of `user` stops working (the caller commits); how many there were."""
    result = db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def token_user(db: Session, token: str) -> User | None:
    """The active user of a live token, else None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    )
    user = db.get(User, row.user_id) if row is not None else None
    return user if user is not None and user.active else None


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
