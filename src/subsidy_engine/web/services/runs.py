"""Running a period for an upload, and the auditor's checks of a run, through the engine's own API.

A run evaluates the stored roster (pipeline.evaluate_file), writes its folder with output.write_run (atomic:
whole or absent) plus the 公示 copies (publish.publish) and a masked rejects list, and only then records the
run row and its files in one transaction. An engine refusal (a period not covered, an unreadable roster, …)
records a `failed` run with the message (server paths and ID-shaped text removed) and no files; anything else
removes the folder before re-raising. The roster a run reads was checked in the sandbox when it was uploaded;
the auditor's paid list is a new upload, so the comparison runs in the sandbox (diff_files).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from subsidy_engine.audit.diff import diff_text, write_diff
from subsidy_engine.audit.findings import audit_full, finding_titles, write_workbook
from subsidy_engine.audit.publish import publish
from subsidy_engine.audit.rerun import rerun
from subsidy_engine.engines.vectorized import Progress
from subsidy_engine.errors import PeriodNotCoveredError, SubsidyError
from subsidy_engine.money import fen, fen_text
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import REJECT_COLUMNS
from subsidy_engine.run.output import write_csv, write_run
from subsidy_engine.run.pipeline import evaluate_file
from subsidy_engine.web.config import Settings
from subsidy_engine.web.labels import covered_periods
from subsidy_engine.web.masking import mask_text, masked, masked_rejects, scrub_paths
from subsidy_engine.web.models import Check, Run, StoredFile, Upload, User
from subsidy_engine.web.services.release import new_run_release
from subsidy_engine.web.services.runfiles import RUN_FILES
from subsidy_engine.web.services.sandbox import run_job
from subsidy_engine.web.store import new_id, sha256_file
from subsidy_engine.web.sweep import make_private

# download kind -> (label, path inside the run folder, media type)
CHECK_FILES: dict[str, tuple[str, str]] = {
    "audit.xlsx": ("审计工作簿(Excel)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "findings.csv": ("核查发现", "text/csv; charset=utf-8"),
    "diff.csv": ("差异明细", "text/csv; charset=utf-8"),
    "bad_lines.csv": ("无法读取的行", "text/csv; charset=utf-8"),
}


def totals_view(totals: pd.DataFrame) -> dict[str, Any]:
    """The blocks the run page shows: per program, per 行政村 (all programs) and the grand total."""
    t = totals.astype(str)
    keep = ["项目", "项目名称", "人数", "人次", "金额"]
    programs = t[(t["规则"] == "") & (t["乡镇"] == "") & (t["项目"] != "")][keep]
    villages = t[(t["项目"] == "") & (t["行政村"] != "")][["乡镇", "行政村", "人数", "人次", "金额"]]
    grand = t[(t["项目"] == "") & (t["乡镇"] == "")][keep]
    return {
        "programs": programs.to_dict("records"),
        "villages": villages.to_dict("records"),
        "grand": grand.to_dict("records")[0] if len(grand) else None,
    }


def _record(data_dir: Path, run_dir: Path, kinds: dict[str, str], **owner: str) -> list[StoredFile]:
    out = []
    for kind, rel in kinds.items():
        p = run_dir / rel
        if p.is_file():
            out.append(
                StoredFile(
                    kind=kind,
                    path=str(p.relative_to(data_dir)),
                    sha256=sha256_file(p),
                    size=p.stat().st_size,
                    **owner,
                )
            )
    return out


def execute_run(
    data_dir: Path,
    db: Session,
    upload: Upload,
    period: str,
    user: User,
    *,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> Run:
    """Run `period` over the upload (in a worker: `run_id` is the job's, `progress` reports the stages)."""
    run_id = run_id or new_id()
    out = data_dir / "runs" / run_id
    base = {"id": run_id, "upload_id": upload.id, "town": upload.town, "user_id": user.id}
    try:
        result = evaluate_file(data_dir / upload.path, period, progress=progress)
        if progress:
            progress("write", 0, 1)
        write_run(result, out, ("csv", "xlsx"))
        publish(out)
        (out / "masked").mkdir()
        write_csv(masked_rejects(result.validated.rejects[REJECT_COLUMNS]), out / "masked" / "rejects.csv")
        make_private(out)
    except SubsidyError as exc:
        shutil.rmtree(out, ignore_errors=True)
        error = mask_text(scrub_paths(str(exc), {data_dir / upload.path: upload.original_name}))
        if isinstance(exc, PeriodNotCoveredError):  # the rule file's name means nothing to a caseworker
            first, last, _ = covered_periods()
            error = f"规则库没有期间 {mask_text(period.strip())[:16]} 的全部标准;可计算 {first} 至 {last} 的任一年份或月份"
        shown = mask_text(period.strip())[:16]
        run = Run(**base, period=shown, engine="pandas", status="failed", error=error)
        db.add(run)
        db.commit()
        return run
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    view = totals_view(result.totals)
    run = Run(
        **base,
        period=result.period.label,
        engine=result.engine,
        status="done",
        manifest=_json(out / "manifest.json"),
        rows_read=result.validated.rows_read,
        rows_rejected=result.validated.rows_rejected,
        lines=len(result.payments),
        total=view["grand"]["金额"] if view["grand"] else "0.00",
        totals=view,
    )
    new_run_release(db, run, user, upload, out)  # 草稿, or a correction naming the approved run it replaces
    _commit_with_files(db, run, data_dir, out, {k: v[1] for k, v in RUN_FILES.items()}, run_id=run_id)
    return run


def _commit_with_files(
    db: Session, row: Run | Check, data_dir: Path, folder: Path, kinds: dict[str, str], **owner: str
) -> None:
    """The row and its files in one transaction; on any failure nothing is recorded and the folder goes."""
    try:
        db.add(row)
        db.flush()
        db.add_all(_record(data_dir, folder, kinds, **owner))
        db.commit()
    except BaseException:
        db.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def run_dir(data_dir: Path, run: Run) -> Path:
    return data_dir / "runs" / run.id


def rerun_check(data_dir: Path, db: Session, run: Run, user: User) -> Check:
    report = rerun(run_dir(data_dir, run) / "manifest.json")
    check = Check(
        id=new_id(),
        run_id=run.id,
        user_id=user.id,
        kind="rerun",
        ok=report.identical,
        report=report.text(),
        summary={"outputs": report.outputs, "reasons": report.reasons},
    )
    db.add(check)
    db.commit()
    return check


def diff_files(roster: str, paid: str, period: str) -> dict[str, Any]:
    """Compare a paid list with a recorded run's roster and period; write the findings, the diff and the
    workbook beside the paid list (masked); the check's fields. Run in the sandbox's child."""
    folder = Path(paid).parent
    res = audit_full(read_roster(roster), period, None, Path(paid))
    assert res.diff is not None
    d = dataclasses.replace(res.diff, lines=masked(res.diff.lines), bad_lines=masked(res.diff.bad_lines))
    res = dataclasses.replace(res, findings=masked(res.findings), diff=d)
    write_csv(res.findings, folder / "findings.csv")
    write_diff(d, folder)
    write_workbook(res, folder / "audit.xlsx")
    f = res.findings
    counts = [
        {"代码": code, "标题": title, "条数": int((f["代码"] == code).sum()), "涉及金额": _sum(f, code)}
        for code, title in finding_titles(res.run.rulebook).items()
        if (f["代码"] == code).any()
    ]
    return {
        "ok": bool(d.agree),
        "report": mask_text(diff_text(d)),
        "summary": {
            "findings": counts,
            "by_program": d.by_program.astype(str).to_dict("records"),
            "sample": f.head(200).astype(str).to_dict("records"),
        },
    }


def diff_check(
    settings: Settings, db: Session, run: Run, upload: Upload, paid: Path, shown: str, user: User
) -> Check:
    """Compare a paid list with the run (in the sandbox) and record the check; the folder is the paid list's."""
    folder = paid.parent
    roster = settings.data_dir / upload.path
    try:
        fields = run_job(
            "diff",
            {"roster": str(roster), "paid": str(paid), "period": run.period},
            folder,
            settings,
            {paid: shown, roster: upload.original_name, settings.data_dir: "数据目录"},
        )
        make_private(folder)
        check = Check(id=folder.name, run_id=run.id, user_id=user.id, kind="diff", **fields)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _commit_with_files(db, check, settings.data_dir, folder, {k: k for k in CHECK_FILES}, check_id=check.id)
    return check


def _sum(f: pd.DataFrame, code: str) -> str:
    return fen_text(sum(fen(v) for v in f.loc[f["代码"] == code, "涉及金额"]))
