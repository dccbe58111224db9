"""The downloads a person opens (Excel first, Chinese file names) and the printable 公示 per 行政村.

The files of the run folder are read through their recorded sha256 (a changed file is refused); the Excel CSV
and the 公示 workbook are made from the stored payments.csv at download time. File names are Chinese
(`兴隆镇-2023-发放名单.xlsx`), sent as RFC 5987 `filename*` with an ASCII fallback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from subsidy_engine.audit.workbook import write_sheets
from subsidy_engine.run.excel import excel_csv_bytes, read_machine_csv
from subsidy_engine.web import labels
from subsidy_engine.web.auth import check_csrf
from subsidy_engine.web.deps import DB, CurrentUser, data_dir, visible_run, visible_upload
from subsidy_engine.web.masking import masked_rejects
from subsidy_engine.web.models import Run, StoredFile, Town
from subsidy_engine.web.routes.service import log_event
from subsidy_engine.web.services.publicity import households, total, write_publicity_xlsx
from subsidy_engine.web.store import sha256_file
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def disposition(name: str) -> str:
    """`attachment` with the Chinese name as RFC 5987 `filename*` and an ASCII stand-in for old clients."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-._") else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment(data: bytes, media: str, name: str) -> Response:
    return Response(data, media_type=media, headers={"content-disposition": disposition(name)})


def file_stem(run: Run) -> str:
    return f"{run.town or '多个乡镇'}-{run.period}"


def stored_bytes(request: Request, db: DB, run: Run, kind: str) -> bytes:
    """A run file's bytes, after checking them against the sha256 recorded when the run was written."""
    stored = db.scalar(select(StoredFile).where(StoredFile.run_id == run.id, StoredFile.kind == kind))
    data = data_dir(request)
    if stored is None:
        raise HTTPException(404)
    path = (data / stored.path).resolve()
    if not path.is_relative_to(data) or not path.is_file():
        raise HTTPException(404)
    if sha256_file(path) != stored.sha256:
        raise HTTPException(409, "存储的文件与记录的校验值不一致(文件被改动过),已拒绝下载;请联系管理员")
    return path.read_bytes()


def _payments(request: Request, db: DB, run: Run) -> pd.DataFrame:
    if run.status != "done":
        raise HTTPException(404)
    return read_machine_csv(stored_bytes(request, db, run, "payments.csv"))


@router.get("/runs/{run_id}/download/{what}")
def download(request: Request, db: DB, user: CurrentUser, run_id: str, what: str) -> Response:
    """发放名单 as Excel (the stored payments.xlsx) or as CSV for Excel; the 公示 as Excel."""
    run = visible_run(db, user, run_id)
    stem = file_stem(run)
    if what.startswith("payments"):  # the lists hold whole 证件号码: who took one is recorded
        log_event(request, user, "download", f"run:{run.id} {what}")
    if what == "payments.xlsx":
        return attachment(stored_bytes(request, db, run, "payments.xlsx"), XLSX, f"{stem}-发放名单.xlsx")
    if what == "payments-excel.csv":
        data = excel_csv_bytes(_payments(request, db, run))
        return attachment(data, CSV, f"{stem}-发放名单(Excel用).csv")
    if what == "payments.csv":
        return attachment(
            stored_bytes(request, db, run, "payments.csv"), CSV, f"{stem}-发放名单(系统格式).csv"
        )
    if what == "publicity.xlsx":
        villages = households(_payments(request, db, run), labels.program_titles())
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "p.xlsx"
            write_publicity_xlsx(villages, path)
            return attachment(path.read_bytes(), XLSX, f"{stem}-公示名单.xlsx")
    if what == "totals.csv":
        frame = read_machine_csv(stored_bytes(request, db, run, "totals.csv"))
        return attachment(excel_csv_bytes(frame), CSV, f"{stem}-汇总.csv")
    raise HTTPException(404)


@router.get("/runs/{run_id}/publicity")
def publicity(request: Request, db: DB, user: CurrentUser, run_id: str, village: str = "") -> Response:
    """The 公示, one printed A4 section per 行政村 (or only the village asked)."""
    run = visible_run(db, user, run_id)
    villages = households(_payments(request, db, run), labels.program_titles())
    if village and village not in villages:
        raise HTTPException(404, f"本次计算没有行政村 {village} 的发放")
    shown = {village: villages[village]} if village else villages
    sheets = [(name, frame.to_dict("records"), total(frame)) for name, frame in shown.items()]
    town = db.get(Town, run.town) if run.town else None
    return render(
        request,
        "publicity.html",
        {
            "run": run,
            "town": run.town or "",
            "sheets": sheets,
            "village": village,
            "all_villages": list(villages),
            "settings": {
                "publicity": town.publicity if town else "",
                "hotline": town.hotline if town else "",
            },
        },
    )


@router.get("/uploads/{upload_id}/rejects.{ext}")
def rejects(request: Request, db: DB, user: CurrentUser, upload_id: str, ext: str) -> Response:
    """Every problem of an upload (证件号码 masked), right after the upload: Excel, or CSV for Excel."""
    up = visible_upload(db, user, upload_id)
    path = data_dir(request) / Path(up.path).parent / "rejects.csv"
    frame = masked_rejects(read_machine_csv(path.read_bytes()))
    frame.insert(frame.columns.get_loc("原因代码"), "问题", [labels.reason(c) for c in frame["原因代码"]])
    stem = f"{up.town or '多个乡镇'}-{Path(up.original_name).stem}-校验问题"
    if ext == "csv":
        return attachment(excel_csv_bytes(frame), CSV, f"{stem}.csv")
    if ext == "xlsx":
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.xlsx"
            write_sheets(out, [("校验问题", frame)])
            return attachment(out.read_bytes(), XLSX, f"{stem}.xlsx")
    raise HTTPException(404)
