"""Signing in: who the client is, how many failures it may have, and a password check of constant cost.

Failed sign-ins are rows in the database (a restart forgets nothing, several server processes share them),
counted twice: per (client address, user name), default 5 a minute, and per client address whatever the names,
default 20 in 15 minutes (spraying many names from one address is limited too). Beyond either, 429 before
any password is checked. The client address is the connection's peer; `X-Forwarded-For` is believed only when
the peer is one of SUBSIDY_TRUSTED_PROXIES, and then its right-most hop that is not a trusted proxy is the
client. An unknown name costs the same argon2 verification as a known one (against a dummy hash), so the time
of the answer does not tell which names exist.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from subsidy_engine.web.auth import hash_password, verify_password
from subsidy_engine.web.config import Network, Settings
from subsidy_engine.web.models import SigninFailure, User, utcnow

NAME_CHARS = 64


def _trusted(host: str, proxies: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The address the limiter counts: the peer, or behind a trusted proxy the client it forwards for."""
    if not peer:
        return "?"
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: count the proxy, never a name the client chose
        if not _trusted(hop, proxies):
            return hop
    return peer


@functools.cache
def dummy_hash() -> str:
    """An argon2id hash of a random password nobody knows, made once: what an unknown name is checked against."""
    return hash_password(secrets.token_urlsafe(24))


def authenticate(db: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None, after exactly one argon2 verification."""
    user = db.scalar(select(User).where(User.name == name))
    ok = verify_password(user.password_hash if user is not None else dummy_hash(), password)
    return user if ok and user is not None and user.active else None


class SignInLimiter:
    """Failed sign-ins counted in the `signin_failures` table."""

    def __init__(self, settings: Settings) -> None:
        self.per_name = settings.signin_limit
        self.per_address = settings.signin_address_limit

    def _count(self, db: Session, address: str, seconds: int, name: str | None = None) -> int:
        since = utcnow() - dt.timedelta(seconds=seconds)
        query = select(func.count()).where(
            SigninFailure.address == address[:NAME_CHARS], SigninFailure.at > since
        )
        if name is not None:
            query = query.where(SigninFailure.name == name[:NAME_CHARS])
        return int(db.scalar(query) or 0)

    def allowed(self, db: Session, address: str, name: str) -> bool:
        return (
            self._count(db, address, self.per_name.seconds, name) < self.per_name.count
            and self._count(db, address, self.per_address.seconds) < self.per_address.count
        )

    def failed(self, db: Session, address: str, name: str) -> None:
        """Record a failure (and forget the ones no window counts any more); the caller commits."""
        keep = max(self.per_name.seconds, self.per_address.seconds)
        db.execute(delete(SigninFailure).where(SigninFailure.at < utcnow() - dt.timedelta(seconds=keep)))
        db.add(SigninFailure(address=address[:NAME_CHARS], name=name[:NAME_CHARS], at=utcnow()))

    def succeeded(self, db: Session, address: str, name: str) -> None:
        """A right password clears that name's failures from that address (not the address's budget)."""
        db.execute(
            delete(SigninFailure).where(
                SigninFailure.address == address[:NAME_CHARS], SigninFailure.name == name[:NAME_CHARS]
            )
        )
