"""The web app's settings, declared once: where the data lives, which database, limits and the cookie key."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_UPLOAD_MB = 50

SETTINGS_DOC = {
    "SUBSIDY_DATA": "data folder (uploads, runs, the SQLite database, the cookie key); default ./data",
    "DATABASE_URL": "PostgreSQL URL (postgresql://user:pw@host:port/db); default SQLite in the data folder",
    "SUBSIDY_SECRET": "key that signs the session cookie; default a random key kept in DATA/secret.key",
    "SUBSIDY_MAX_UPLOAD_MB": f"largest file accepted for upload, in MB; default {DEFAULT_MAX_UPLOAD_MB}",
    "SUBSIDY_SECURE_COOKIE": "1 to send the session cookie over HTTPS only (behind a TLS proxy)",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    secure_cookie: bool = False
    signin_limit: str = "5/minute"


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` URLs use psycopg 3 (the driver installed with the project)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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


def load_settings(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Settings from the arguments, else the environment (SETTINGS_DOC), else the defaults."""
    data = Path(data_dir or os.environ.get("SUBSIDY_DATA") or "data").resolve()
    data.mkdir(parents=True, exist_ok=True)
    url = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{data / 'subsidy.db'}"
    mb = int(os.environ.get("SUBSIDY_MAX_UPLOAD_MB") or DEFAULT_MAX_UPLOAD_MB)
    return Settings(
        data_dir=data,
        database_url=normalize_url(url),
        secret_key=os.environ.get("SUBSIDY_SECRET") or _secret(data),
        max_upload_bytes=mb * 1024 * 1024,
        secure_cookie=os.environ.get("SUBSIDY_SECURE_COOKIE") == "1",
    )
