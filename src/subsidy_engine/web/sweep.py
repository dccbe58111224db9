"""The data folder at start-up: what no database row owns is removed, and everything is the owner's only.

A crash or a kill in the middle of an upload, a run or an auditor's check can leave a folder behind
(`runs/.<id>.*.tmp/` while a run is written, `runs/<id>/` or `uploads/<id>/` whose row was never committed; a queued or running job's run folder is its
worker's, and the reaper removes it if the worker died):
each may hold a full bank list or a roster. Before the server takes requests, every entry of `uploads/`,
`runs/`, `checks/` and `bank/` whose name is not the id of an upload, run, check or bank batch row is removed. Then the data folder,
every folder in it (0700) and every file in it (0600), the SQLite database included, are made readable by
the owner only; folders and files written later are made so as they are written (`make_private`).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidy_engine.web.models import BankBatch, Check, Job, Run, Upload

AREAS = {"uploads": Upload.id, "runs": Run.id, "checks": Check.id, "bank": BankBatch.id}


def sweep_orphans(db: Session, data_dir: Path) -> list[Path]:
    """Remove what no row owns in the areas; returns what was removed."""
    removed = []
    for area, column in AREAS.items():
        folder = data_dir / area
        if not folder.is_dir():
            continue
        owned = set(db.scalars(select(column)))
        if area == "runs":  # a queued or running job's folder (and its temporary one) belongs to its worker
            active = set(db.scalars(select(Job.id).where(Job.status.in_(("queued", "running")))))
            owned |= active | {
                e.name for e in folder.iterdir() if e.name.split(".")[1:2] and e.name.split(".")[1] in active
            }
        for entry in folder.iterdir():
            if entry.name in owned and entry.is_dir() and not entry.is_symlink():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def prepare_data_dir(data_dir: Path) -> None:
    """The areas exist (so nothing later creates them with the process's umask), all the owner's only."""
    for area in AREAS:
        (data_dir / area).mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(data_dir)


def make_private(path: Path) -> None:
    """`path` and everything under it readable and writable by the owner only (symbolic links untouched)."""
    if path.is_symlink() or not path.exists():
        return
    if path.is_file():
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        return
    os.chmod(path, stat.S_IRWXU)
    for root, dirs, files in os.walk(path):
        for d in dirs:
            p = Path(root) / d
            if not p.is_symlink():
                os.chmod(p, stat.S_IRWXU)
        for f in files:
            p = Path(root) / f
            if not p.is_symlink():
                os.chmod(p, stat.S_IRUSR | stat.S_IWUSR)
