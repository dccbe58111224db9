"""Receiving a file: size limit, type by content (never by name), stored under a generated id, then checked.

A roster is an .xlsx (a zip: `PK\x03\x04`), a Parquet file (`PAR1` at both ends) or text that decodes as UTF-8
or GB18030 (CSV); the name the browser sent is kept for display only. The roster is read and validated at
and validated (roster.read_roster + validate.validate) in a child process with memory and time limits
(sandbox.py), and its rejects are kept beside it for the report page.

A caseworker's upload must hold only their own 乡镇: a roster with rows of another town is refused whole, with
the other towns and row count named. Rejecting just those rows was the alternative, but it would compute a
partial list silently and keep another town's personal data in this town's store; a whole refusal is visible.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import REJECT_COLUMNS, validate
from subsidy_engine.roster.xlsx_guard import OLE
from subsidy_engine.run.output import write_csv
from subsidy_engine.web.config import Settings
from subsidy_engine.web.models import Upload, User
from subsidy_engine.web.services.sandbox import UploadRefused, run_job
from subsidy_engine.web.store import new_id, sha256_file
from subsidy_engine.web.sweep import make_private

CHUNK = 1 << 20
SNIFF = 64 * 1024


@dataclass
class Received:
    path: Path  # absolute, under data/<area>/<id>/
    kind: str  # xlsx | parquet | csv
    size: int


def sniff(head: bytes, tail: bytes, *, allow_parquet: bool = True) -> str | None:
    """The file type from its bytes: xlsx, parquet, csv, or None when it is none of them. An Office container
    (OLE: a password-protected .xlsx, an old .xls) goes to the xlsx reader, which says which of the two it is."""
    if head.startswith((b"PK\x03\x04", OLE)):
        return "xlsx"
    if head.startswith(b"PAR1") and tail.endswith(b"PAR1"):
        return "parquet" if allow_parquet else None
    if b"\x00" in head:
        return None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            head.decode(enc)
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4 and len(head) == SNIFF:  # a character cut at the sniff boundary
                return "csv"
            continue
        return "csv"
    return None


def receive(src: BinaryIO, folder: Path, limit: int, *, allow_parquet: bool = True) -> Received:
    """Copy an upload into `folder` (created here; removed again on refusal) as `input.<kind>`."""
    folder.mkdir(parents=True)
    tmp = folder / "upload.part"
    size = 0
    try:
        with tmp.open("wb") as out:
            while block := src.read(CHUNK):
                size += len(block)
                if size > limit:
                    raise UploadRefused(f"文件超过上传大小限制 {limit // (1024 * 1024)} MB", status=413)
                out.write(block)
        if size == 0:
            raise UploadRefused("上传的文件是空的")
        with tmp.open("rb") as f:
            head = f.read(SNIFF)
            f.seek(max(0, size - 4))
            tail = f.read(4)
        kind = sniff(head, tail, allow_parquet=allow_parquet)
        if kind is None:
            kinds = "xlsx、csv 或 parquet" if allow_parquet else "xlsx 或 csv"
            raise UploadRefused(f"无法识别的文件内容:只接受 {kinds} 文件(按文件内容判断,与文件名无关)")
        path = folder / f"input.{kind}"
        tmp.rename(path)
        return Received(path, kind, size)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def other_towns(frame: pd.DataFrame, town: str) -> tuple[list[str], int]:
    values = frame["town"].map(lambda v: "" if v is None or pd.isna(v) else str(v).strip())
    others = values[(values != "") & (values != town)]
    return sorted(set(others)), len(others)


def roster_towns(frame: pd.DataFrame) -> list[str]:
    values = frame["town"].map(lambda v: "" if v is None or pd.isna(v) else str(v).strip())
    return sorted(set(values) - {""})


def inspect_roster(path: str, role: str, town: str | None) -> dict[str, Any]:
    """Read and validate a stored roster and write its rejects beside it (run in the sandbox's child).

    A caseworker's roster (`town` given) must hold only that town's rows; the counts for the Upload row."""
    stored = Path(path)
    raw = read_roster(stored)
    if role == "caseworker":
        assert town is not None
        others, n = other_towns(raw.frame, town)
        if others:
            raise UploadRefused(
                f"名册中有 {n} 行属于其他乡镇({'、'.join(others[:5])}),您只能上传 {town} 的名册;"
                "请删去这些行后重新上传"
            )
        shown_town: str | None = town
    else:
        towns = roster_towns(raw.frame)
        shown_town = towns[0] if len(towns) == 1 else None
    checked = validate(raw)
    write_csv(checked.rejects[REJECT_COLUMNS], stored.parent / "rejects.csv")
    return {
        "town": shown_town,
        "rows_read": checked.rows_read,
        "rows_rejected": checked.rows_rejected,
        "households_accepted": checked.households_accepted,
        "households_rejected": checked.households_rejected,
        "problems": len(checked.rejects),
    }


def check_roster(settings: Settings, received: Received, user: User, original_name: str) -> Upload:
    """Check a stored roster in the sandbox; return the Upload row (not yet added).

    Any refusal removes the upload's folder, so nothing half-accepted stays in the store."""
    folder = received.path.parent
    shown = Path(original_name or "").name[:200] or "(未命名)"
    try:
        counts = run_job(
            "roster",
            {"path": str(received.path), "role": user.role, "town": user.town},
            folder,
            settings,
            {received.path: shown, settings.data_dir: "数据目录"},
        )
        make_private(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Upload(
        id=folder.name,
        user_id=user.id,
        original_name=shown,
        kind=received.kind,
        path=str(received.path.relative_to(settings.data_dir)),
        sha256=sha256_file(received.path),
        size=received.size,
        **counts,
    )


def upload_folder(data_dir: Path) -> Path:
    return data_dir / "uploads" / new_id()
