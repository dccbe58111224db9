"""The store: a database engine (SQLite file by default, PostgreSQL from a URL), its schema brought up to date
by Alembic, and the data folder where uploaded and computed files live under generated ids."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from subsidy_engine.web.models import Town

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # several processes share the file (web processes, workers): wait for the write lock up to 30 s, and
        # write-ahead logging so that pages are read while a worker writes
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn: Any, _record: Any) -> None:  # SQLite checks foreign keys only when asked
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (run at start-up and by `subsidy db upgrade`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def new_id() -> str:
    return uuid.uuid4().hex


def ensure_town(db: Session, name: str | None) -> None:
    if name and db.scalar(select(Town).where(Town.name == name)) is None:
        db.add(Town(name=name))
        db.flush()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
