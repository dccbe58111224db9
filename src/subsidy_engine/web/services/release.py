"""Review and approval of a run in the web app: release/states.py's record kept in the run's row, the warnings a
reviewer must acknowledge, corrections, and the access rules the pages and the API share.

The transitions themselves are release/states.py's (submit, approve, send_back, release, correct); this module
reads a run's row into a `Release`, hands it the files as they are on disk now (sha256), and writes the result
back only if nobody changed the state in between (a conditional UPDATE). The warnings are the findings an
auditor raises on the list itself — `subsidy audit ROSTER --period P --paid RUN/payments.csv` on the run's
roster and stored payment list, the findings file of the rulebook deciding what is found — plus the
households the roster check left out; they are found when the run is submitted and kept in the row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from subsidy_engine.audit.findings import audit_full, finding_titles
from subsidy_engine.release import states
from subsidy_engine.release.states import Refused, State
from subsidy_engine.roster.read import read_roster
from subsidy_engine.run.payments import fen_text
from subsidy_engine.web.labels import readable, reason
from subsidy_engine.web.masking import mask_text, masked_rejects
from subsidy_engine.web.models import TOWN_ROLES, Run, StoredFile, Upload, User, utcnow
from subsidy_engine.web.services.runfiles import RUN_FILES
from subsidy_engine.web.store import sha256_file

LEFT_OUT = "HOUSEHOLDS_LEFT_OUT"  # not a finding of the audit: households the roster check refused
LEFT_OUT_TITLE = "未通过校验、未参与计算的户"
SHOWN_ROWS = 20  # rows of each warning kept for the page (the counts and amounts are of all of them)
ACTION_TEXT = {
    "create": "计算",
    "correct": "更正计算",
    "edit": "修改",
    "submit": "提交审核",
    "approve": "审核通过",
    "send_back": "退回",
    "release": "确认发放",
}


def actor(user: User) -> states.Actor:
    return states.Actor(user.name, user.role, user.town)


def _name(db: Session, user_id: int | None) -> str:
    user = db.get(User, user_id) if user_id is not None else None
    return user.name if user else ""


def record_of(db: Session, run: Run) -> states.Release:
    """The run's review record, as release/states.py knows it."""
    upload = db.get(Upload, run.upload_id)
    history = tuple(
        states.Event(
            e["action"],
            State(e["before"]) if e.get("before") else None,
            State(e["after"]),
            e["user"],
            e.get("reason", ""),
            e.get("at", ""),
        )
        for e in run.release_history or []
    )
    return states.Release(
        run_id=run.id,
        town=run.town or "",
        made_by=_name(db, run.user_id),
        uploaded_by=_name(db, upload.user_id if upload else None),
        files=dict(run.release_files or recorded_files(db, run)),
        state=State(run.release_state or State.DRAFT),
        locked=dict(run.locked_files) if run.locked_files is not None else None,
        acknowledged=frozenset(run.acknowledged or ()),
        written_off=dict(run.written_off or {}),
        replaces=run.replaces or "",
        history=history,
    )


def _events(r: states.Release) -> list[dict[str, str]]:
    return [
        {
            "action": e.action,
            "before": e.before.value if e.before else "",
            "after": e.after.value,
            "user": e.user,
            "reason": e.reason,
            "at": e.at,
        }
        for e in r.history
    ]


def recorded_files(db: Session, run: Run) -> dict[str, str]:
    """The run's files as recorded when it was written: kind → sha256."""
    rows = db.scalars(select(StoredFile).where(StoredFile.run_id == run.id))
    return {f.kind: f.sha256 for f in rows}


def current_files(data_dir: Path, db: Session, run: Run) -> dict[str, str]:
    """The run's files as they are on disk now: kind → sha256 ('' for a file that is gone)."""
    out = {}
    for f in db.scalars(select(StoredFile).where(StoredFile.run_id == run.id)):
        path = data_dir / f.path
        out[f.kind] = sha256_file(path) if path.is_file() else ""
    return out


def folder_files(folder: Path) -> dict[str, str]:
    """A run folder's files just written, kind → sha256 (the kinds the run's file rows will have)."""
    return {k: sha256_file(folder / rel) for k, (_, rel, _) in RUN_FILES.items() if (folder / rel).is_file()}


def now_text(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def store(db: Session, run: Run, new: states.Release, **columns: Any) -> None:
    """Write `new` to the run's row, only if its state is still the one read; else Refused (409)."""
    values = {
        "release_state": new.state.value,
        "release_files": dict(new.files),
        "locked_files": dict(new.locked) if new.locked is not None else None,
        "acknowledged": sorted(new.acknowledged),
        "written_off": dict(new.written_off),
        "replaces": new.replaces or None,
        "release_history": _events(new),
        **columns,
    }
    before = run.release_state
    result = db.execute(update(Run).where(Run.id == run.id, Run.release_state == before).values(**values))
    if getattr(result, "rowcount", 0) != 1:
        db.rollback()
        raise Refused("CONCURRENT", "运行的审核状态刚被他人改变,请刷新页面后重试")
    db.commit()
    db.refresh(run)


def newer_run(db: Session, run: Run) -> Run | None:
    """The newest finished run of the same town and period made after `run` (which it supersedes)."""
    return db.scalars(
        select(Run)
        .where(
            Run.town == run.town,
            Run.period == run.period,
            Run.status == "done",
            Run.created_at > run.created_at,
        )
        .order_by(Run.created_at.desc())
    ).first()


def replaced_by(db: Session, run: Run) -> list[Run]:
    """The corrections of `run`: the runs that name it as the one they replace."""
    return list(db.scalars(select(Run).where(Run.replaces == run.id).order_by(Run.created_at)))


def _done(run: Run) -> None:
    if run.status != "done" or not run.release_state:
        raise Refused("NOT_DONE", "计算失败的运行没有发放名单,不能提交审核或发放")


def _not_superseded(db: Session, run: Run, doing: str) -> None:
    newer = newer_run(db, run)
    if newer is not None:
        raise Refused(
            "SUPERSEDED",
            f"本运行之后已有 {newer.created_at:%Y-%m-%d %H:%M} 的计算(同一乡镇、同一期间),"
            f"本运行已被替代,不能{doing};请{doing}最新的计算",
        )


def _unchanged_since_written(data_dir: Path, db: Session, run: Run, r: states.Release) -> dict[str, str]:
    files = current_files(data_dir, db, run)
    if files != dict(r.files):
        changed = sorted(k for k in set(files) | set(r.files) if files.get(k) != r.files.get(k))
        raise Refused("CHANGED", f"运行的文件在计算之后被改动过({'、'.join(changed)}),不能提交;请重新计算")
    return files


def new_run_release(db: Session, run: Run, user: User, upload: Upload, folder: Path) -> None:
    """A run just computed starts in 草稿 (states.create); when the run in force of its town and period is
    approved (locked), it is a correction naming that run (states.correct), which stays as it is."""
    files = folder_files(folder)
    uploader = _name(db, upload.user_id)
    old = db.scalars(
        select(Run)
        .where(
            Run.town == run.town,
            Run.period == run.period,
            Run.status == "done",
            Run.release_state.in_([s.value for s in states.LOCKED]),
            Run.id != run.id,
        )
        .order_by(Run.created_at.desc())
    ).first()
    at = now_text(utcnow())
    try:
        if old is not None:
            rec = states.correct(record_of(db, old), run.id, actor(user), files, uploaded_by=uploader, at=at)
        else:
            rec = states.create(run.id, run.town or "", actor(user), files, uploaded_by=uploader, at=at)
    except Refused:  # not a caseworker of the town (no such run is made today): a draft without history
        rec = states.Release(run.id, run.town or "", user.name, uploader, files)
    run.release_state = rec.state.value
    run.replaces = rec.replaces or None
    run.release_files = dict(rec.files)
    run.release_history = _events(rec)


def submit(data_dir: Path, db: Session, run: Run, user: User) -> states.Release:
    """草稿/已退回 → 已提交 by a caseworker of the town; the warnings are found now and kept."""
    _done(run)
    r = record_of(db, run)
    when = utcnow()
    new = states.submit(r, actor(user), at=now_text(when))
    _not_superseded(db, run, "提交")
    _unchanged_since_written(data_dir, db, run, r)
    upload = db.get(Upload, run.upload_id)
    assert upload is not None
    found = warnings_of(data_dir, run, upload)
    store(db, run, new, submitted_by=user.id, submitted_at=when, warnings=found, returned_reason=None)
    return new


def approve(data_dir: Path, db: Session, run: Run, user: User, acknowledged: list[str]) -> states.Release:
    """已提交 → 已审核 by another reviewer of the town, every warning acknowledged; the files are locked."""
    _done(run)
    r = record_of(db, run)
    titles = {str(w["code"]): str(w["title"]) for w in run.warnings or []}
    ticked = [c for c in acknowledged if c in titles]
    when = utcnow()
    try:
        new = states.approve(
            r,
            actor(user),
            files=current_files(data_dir, db, run),
            warnings=list(titles),
            acknowledged=ticked,
            at=now_text(when),
        )
    except Refused as exc:  # the warnings still open named as the page names them, not by their codes
        if exc.code != "UNACKNOWLEDGED":
            raise
        left = [t for c, t in titles.items() if c not in ticked]
        raise Refused(
            exc.code, f"还有 {len(left)} 条提示未确认:{'、'.join(left)};请逐项核实、勾选后再审核通过"
        ) from None
    _not_superseded(db, run, "审核")
    store(db, run, new, approved_by=user.id, approved_at=when)
    return new


def send_back(db: Session, run: Run, user: User, reason: str) -> states.Release:
    """已提交 → 已退回 with the reason, by a reviewer of the town."""
    _done(run)
    new = states.send_back(record_of(db, run), actor(user), reason[:1000], at=now_text(utcnow()))
    store(db, run, new, returned_reason=new.history[-1].reason)
    return new


def check_bank_actor(user: User) -> None:
    """The bank file and the return are handled by the town's own people (caseworker or reviewer)."""
    if user.role not in TOWN_ROLES:
        raise Refused("WRONG_ROLE", "只有乡镇经办人或审核人可以导出代发文件、上传银行回盘", forbidden=True)


def check_locked_files(data_dir: Path, db: Session, run: Run, *, export: bool = True) -> states.Release:
    """An approved run (with `export`: not yet 已发放) whose files are still the ones approved (else
    Refused NOT_APPROVED or LOCKED, 409)."""
    _done(run)
    r = record_of(db, run)
    if export or r.state not in states.LOCKED:
        states.check_export(r)
    states.check_unchanged(r, current_files(data_dir, db, run))
    return r


def warnings_of(data_dir: Path, run: Run, upload: Upload) -> list[dict[str, Any]]:
    """What an auditor would raise on the list: the audit's findings on the run's roster with the stored
    payment list as the list paid, grouped by code, and the households left out (证件号码 masked)."""
    folder = data_dir / "runs" / run.id
    res = audit_full(read_roster(data_dir / upload.path), run.period, None, folder / "payments.csv")
    f = res.findings
    out: list[dict[str, Any]] = []
    for code, title in finding_titles(res.run.rulebook).items():
        part = f[f["代码"] == code]
        if not len(part):
            continue
        out.append(
            {
                "code": code,
                "title": title,
                "count": len(part),
                "households": int(part["户编号"].nunique()),
                "amount": fen_text(sum(int(v.replace(".", "")) for v in part["涉及金额"])),
                "rows": [
                    {
                        "户编号": str(r["户编号"]),
                        "证件号码": mask_text(str(r["证件号码"])),
                        "证据": mask_text(readable(str(r["证据"]))),
                        "涉及金额": str(r["涉及金额"]),
                    }
                    for r in part.head(SHOWN_ROWS).to_dict("records")
                ],
            }
        )
    rejects = masked_rejects(res.run.validated.rejects)
    if len(rejects):
        causes = rejects[rejects["原因代码"] != "HOUSEHOLD_REJECTED"]
        households = sorted({str(h) for h in rejects["户编号"]} - {""})
        out.append(
            {
                "code": LEFT_OUT,
                "title": LEFT_OUT_TITLE,
                "count": max(len(households), upload.households_rejected),
                "households": max(len(households), upload.households_rejected),
                "amount": "",
                "rows": [
                    {
                        "户编号": str(r["户编号"]),
                        "证件号码": str(r["证件号码"]),
                        "证据": f"第 {r['行号']} 行 {r['姓名']}:{reason(r['原因代码'])}"
                        + (f"({r['说明']})" if r["说明"] else ""),
                        "涉及金额": "",
                    }
                    for r in causes.head(SHOWN_ROWS).to_dict("records")
                ],
            }
        )
    return out


def panel(db: Session, run: Run, user: User) -> dict[str, Any]:
    """What the run page shows of the review: state, who and when, warnings, corrections, what the user may do."""
    if run.status != "done" or not run.release_state:
        return {"state": ""}
    r = record_of(db, run)
    state = r.state
    own = user.name in (r.made_by, r.uploaded_by)
    replaces = db.get(Run, run.replaces) if run.replaces else None
    history = [
        {**dataclasses.asdict(e), "text": ACTION_TEXT.get(e.action, e.action), "after": e.after.value}
        for e in r.history
    ]
    return {
        "state": state.value,
        "submitted_by": _name(db, run.submitted_by),
        "submitted_at": run.submitted_at,
        "approved_by": _name(db, run.approved_by),
        "approved_at": run.approved_at,
        "returned_reason": run.returned_reason or "",
        "warnings": run.warnings or [],
        "acknowledged": set(run.acknowledged or ()),
        "replaces": replaces,
        "replaced_by": replaced_by(db, run),
        "history": history,
        "can_submit": user.role == states.CASEWORKER and state in states.EDITABLE,
        "can_review": user.role == states.REVIEWER and state == State.SUBMITTED and not own,
        "own": user.role == states.REVIEWER and state == State.SUBMITTED and own,
        "locked": state in states.LOCKED,
    }
