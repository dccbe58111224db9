"""The web app's settings, declared once: where the data lives, which database, limits and the cookie key."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_UPLOAD_MB = 50
DEFAULT_SANDBOX_MEMORY_MB = 2048
DEFAULT_SANDBOX_SECONDS = 120
DEFAULT_SESSION_IDLE_MINUTES = 30
DEFAULT_SESSION_HOURS = 12
DEFAULT_JOB_HEARTBEAT_TIMEOUT = 60

SETTINGS_DOC = {
    "SUBSIDY_DATA": "data folder (uploads, runs, the SQLite database, the cookie key); default ./data",
    "DATABASE_URL": "PostgreSQL URL (postgresql://user:pw@host:port/db); default SQLite in the data folder",
    "SUBSIDY_SECRET": "key that signs the sign-in form's cookie; default a random key kept in DATA/secret.key",
    "SUBSIDY_MAX_UPLOAD_MB": f"largest file accepted for upload, in MB; default {DEFAULT_MAX_UPLOAD_MB}",
    "SUBSIDY_SANDBOX_MEMORY_MB": "address space of the child process that reads an uploaded file, in MB; "
    f"default {DEFAULT_SANDBOX_MEMORY_MB}",
    "SUBSIDY_SANDBOX_SECONDS": "time the child process may take to read and check an uploaded file; "
    f"default {DEFAULT_SANDBOX_SECONDS}",
    "SUBSIDY_SESSION_IDLE_MINUTES": "a session unused this long ends; default 30",
    "SUBSIDY_SESSION_HOURS": "a session ends this long after sign-in, used or not; default 12",
    "SUBSIDY_SIGNIN_LIMIT": "failed sign-ins per client address and user name, COUNT/SECONDS; default 5/60",
    "SUBSIDY_SIGNIN_ADDRESS_LIMIT": "failed sign-ins per client address, any names, COUNT/SECONDS; default 20/900",
    "SUBSIDY_TRUSTED_PROXIES": "addresses or networks (comma-separated) whose X-Forwarded-For is believed; "
    "default none",
    "SUBSIDY_JOB_HEARTBEAT_TIMEOUT": "a running job whose worker has not written its heartbeat for this many "
    f"seconds is marked failed; default {DEFAULT_JOB_HEARTBEAT_TIMEOUT}",
    "SUBSIDY_SECURE_COOKIE": "1 to send the cookies over HTTPS only (behind a TLS proxy)",
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rate:
    """At most `count` events in any `seconds`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str, name: str) -> Rate:
        count, _, seconds = text.partition("/")
        try:
            rate = cls(int(count), int(seconds))
        except ValueError:
            raise ValueError(f"{name} 应写成 次数/秒数,例如 5/60,而不是 {text!r}") from None
        if rate.count < 1 or rate.seconds < 1:
            raise ValueError(f"{name} 的次数和秒数都应大于 0:{text!r}")
        return rate


DEFAULT_SIGNIN_LIMIT = Rate(5, 60)
DEFAULT_SIGNIN_ADDRESS_LIMIT = Rate(20, 900)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    secure_cookie: bool = False
    sandbox_memory_bytes: int = DEFAULT_SANDBOX_MEMORY_MB * 1024 * 1024
    sandbox_seconds: float = DEFAULT_SANDBOX_SECONDS
    session_idle_seconds: int = DEFAULT_SESSION_IDLE_MINUTES * 60
    session_max_seconds: int = DEFAULT_SESSION_HOURS * 3600
    signin_limit: Rate = DEFAULT_SIGNIN_LIMIT
    signin_address_limit: Rate = DEFAULT_SIGNIN_ADDRESS_LIMIT
    trusted_proxies: tuple[Network, ...] = ()
    job_heartbeat_timeout: float = DEFAULT_JOB_HEARTBEAT_TIMEOUT


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` URLs use psycopg 3 (the driver installed with the project)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.1, 192.168.0.0/16` → networks; a bare address is a network of one."""
    try:
        return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"SUBSIDY_TRUSTED_PROXIES 中有无法识别的地址:{exc}") from None


def _secret(data_dir: Path) -> str:
    key = data_dir / "secret.key"
    if key.is_file():
        return key.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    return value


def _number(name: str, default: int) -> int:
    text = os.environ.get(name) or str(default)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} 应为正整数,而不是 {text!r}") from None
    if value < 1:
        raise ValueError(f"{name} 应为正整数,而不是 {text!r}")
    return value


def load_settings(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Settings from the arguments, else the environment (SETTINGS_DOC), else the defaults."""
    data = Path(data_dir or os.environ.get("SUBSIDY_DATA") or "data").resolve()
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{data / 'subsidy.db'}"
    env = os.environ.get
    return Settings(
        data_dir=data,
        database_url=normalize_url(url),
        secret_key=env("SUBSIDY_SECRET") or _secret(data),
        max_upload_bytes=_number("SUBSIDY_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB) * 1024 * 1024,
        secure_cookie=env("SUBSIDY_SECURE_COOKIE") == "1",
        sandbox_memory_bytes=_number("SUBSIDY_SANDBOX_MEMORY_MB", DEFAULT_SANDBOX_MEMORY_MB) * 1024 * 1024,
        sandbox_seconds=_number("SUBSIDY_SANDBOX_SECONDS", DEFAULT_SANDBOX_SECONDS),
        session_idle_seconds=_number("SUBSIDY_SESSION_IDLE_MINUTES", DEFAULT_SESSION_IDLE_MINUTES) * 60,
        session_max_seconds=_number("SUBSIDY_SESSION_HOURS", DEFAULT_SESSION_HOURS) * 3600,
        signin_limit=Rate.parse(env("SUBSIDY_SIGNIN_LIMIT") or "5/60", "SUBSIDY_SIGNIN_LIMIT"),
        signin_address_limit=Rate.parse(
            env("SUBSIDY_SIGNIN_ADDRESS_LIMIT") or "20/900", "SUBSIDY_SIGNIN_ADDRESS_LIMIT"
        ),
        trusted_proxies=parse_networks(env("SUBSIDY_TRUSTED_PROXIES") or ""),
        job_heartbeat_timeout=_number("SUBSIDY_JOB_HEARTBEAT_TIMEOUT", DEFAULT_JOB_HEARTBEAT_TIMEOUT),
    )
