"""The bank in the web app: an approved run's batches (bank file and held-back list, written by release/bank.py
with the shipped layout), the bank's return reconciled in the sandbox, re-issue, and the run made 已发放.

A batch lives in `DATA/bank/<batch id>/` (`bank.csv`, `bank.xlsx`, `bank-待补账号.csv`; after the return,
`return-<n>/input.<kind>` and `recon-<n>/` with paid.csv, failed.csv, held.csv, errors.csv, summary.json: a fresh
pair per attempt, so an attempt killed half-way leaves nothing in the next one's way), never in the run's folder: an approved run's files do not change. The first batch of a run pays its whole list — unless the
run corrects one that went to the bank already, then it re-issues what that run's last reconciliation left
unpaid (the command line's `--reissue`), so nobody is paid twice. A re-issue pays the lines the last
reconciliation left failed or held back. The run becomes 已发放 when every line is paid or written off.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from subsidy_engine.errors import InputError
from subsidy_engine.privacy import mask_id
from subsidy_engine.release import states
from subsidy_engine.release.bank import export, prepare, settle
from subsidy_engine.release.bankfile import write_bank_file
from subsidy_engine.release.batch import BankLine
from subsidy_engine.release.layout import load_layout
from subsidy_engine.release.states import Refused, State
from subsidy_engine.run.payments import fen_text
from subsidy_engine.web.config import Settings
from subsidy_engine.web.masking import mask_text
from subsidy_engine.web.models import BankBatch, Run, StoredFile, Upload, User, utcnow
from subsidy_engine.web.services import release
from subsidy_engine.web.services.sandbox import run_job
from subsidy_engine.web.services.uploads import receive
from subsidy_engine.web.store import new_id, sha256_file
from subsidy_engine.web.sweep import make_private

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# kind -> (label, path in the batch folder, media type, holds whole 证件号码)
BATCH_FILES: dict[str, tuple[str, str, str, bool]] = {
    "bank.csv": ("代发文件(CSV,UTF-8 带 BOM)", "bank.csv", CSV, True),
    "bank.xlsx": ("代发文件(Excel)", "bank.xlsx", XLSX, True),
    "held-accounts.csv": ("暂缓名单(缺少或错误的代发账号)", "bank-待补账号.csv", CSV, False),
}
RECON_FILES: dict[str, tuple[str, str, str, bool]] = {
    "paid.csv": ("已发放(paid.csv,发放名单格式)", "paid.csv", CSV, True),
    "failed.csv": ("发放失败(failed.csv)", "failed.csv", CSV, True),
    "held.csv": ("暂缓(held.csv)", "held.csv", CSV, True),
    "errors.csv": ("回盘错误(errors.csv)", "errors.csv", CSV, True),
}
SHOWN_ERRORS = 200
UNRESOLVED = "回盘有误或未回盘:须与银行核实(可能已发放)"


def batches(db: Session, run: Run) -> list[BankBatch]:
    return list(db.scalars(select(BankBatch).where(BankBatch.run_id == run.id).order_by(BankBatch.seq)))


def folder_of(data_dir: Path, batch: BankBatch) -> Path:
    return data_dir / "bank" / batch.id


def recon_of(data_dir: Path, batch: BankBatch) -> Path:
    """The reconciliation folder of a reconciled batch (what a re-issue reads)."""
    return folder_of(data_dir, batch) / str((batch.summary or {}).get("recon", "recon"))


def _paths(settings: Settings, db: Session, run: Run) -> tuple[Path, Path, dict[Path, str]]:
    upload = db.get(Upload, run.upload_id)
    assert upload is not None
    data = settings.data_dir
    run_dir, roster = data / "runs" / run.id, data / upload.path
    return run_dir, roster, {roster: upload.original_name, data: "数据目录"}


def _correction_of_sent(db: Session, run: Run) -> Run | None:
    """An approved correction of `run` (then `run`'s lines are paid from the correction, not from `run`)."""
    for newer in release.replaced_by(db, run):
        if newer.release_state in [s.value for s in states.LOCKED]:
            return newer
    return None


def _source(settings: Settings, db: Session, run: Run, *, reissue: bool) -> BankBatch | None:
    """The batch whose reconciliation the next batch re-issues (None: the run's whole list)."""
    own = batches(db, run)
    if reissue:
        if not own:
            raise Refused("NO_BATCH", "还没有代发批次:先生成代发文件")
        last = own[-1]
        if last.summary is None:
            raise Refused("NOT_RECONCILED", f"批次 {last.number} 的银行回盘尚未对账,对账后才能补发")
        if not last.summary["failed"]["count"] and not last.summary["held"]["count"]:
            raise Refused("NOTHING_TO_REISSUE", f"批次 {last.number} 没有发放失败或暂缓的行,无需补发")
        return last
    old = db.get(Run, run.replaces) if run.replaces else None
    sent = batches(db, old) if old is not None else []
    if not sent:
        return None
    last = sent[-1]
    if last.summary is None:
        raise Refused(
            "PREVIOUS_NOT_RECONCILED",
            f"被更正的运行已导出代发批次 {last.number},其银行回盘尚未对账:先在该运行的页面上传回盘并对账,"
            "本运行再补发其中未成功的行(不重复发放)",
        )
    if not last.summary["failed"]["count"] and not last.summary["held"]["count"]:
        raise Refused(
            "NOTHING_TO_REISSUE", f"被更正的运行的批次 {last.number} 已全部发放成功,本运行没有需要补发的行"
        )
    return last


def export_batch(
    settings: Settings, db: Session, run: Run, user: User, *, reissue: bool = False
) -> BankBatch:
    """The run's first batch (made once: asked again, the same batch) or a re-issue batch; only for an
    approved run whose files are those approved."""
    release.check_bank_actor(user)
    if run.release_state == State.RELEASED:
        raise Refused("RELEASED", "运行已发放完毕,不再导出代发文件")
    release.check_locked_files(settings.data_dir, db, run)
    own = batches(db, run)
    if own and not reissue:
        return own[0]
    newer = _correction_of_sent(db, run)
    if newer is not None:
        raise Refused(
            "CORRECTED", f"本运行已被更正运行({newer.created_at:%Y-%m-%d %H:%M})替代,请从更正运行导出"
        )
    source = _source(settings, db, run, reissue=reissue)
    run_dir, roster, _ = _paths(settings, db, run)
    folder = settings.data_dir / "bank" / new_id()
    layout = load_layout()
    try:
        prepared = prepare(
            run_dir,
            layout,
            roster=roster,
            reissue=recon_of(settings.data_dir, source) if source else None,
        )
        b = prepared.batch
        if not b.lines:
            raise Refused(
                "EMPTY_BATCH",
                f"没有可发送的行:{len(b.held)} 笔全部暂缓(缺少或错误的代发账号);"
                "请在名册中更正代发账号后重新上传、计算(更正运行)并审核",
            )
        folder.mkdir(parents=True)
        export(b, layout, folder / "bank.csv")
        write_bank_file(b, layout, folder / "bank.xlsx", kind="xlsx")
        make_private(folder)
        row = BankBatch(
            id=folder.name,
            run_id=run.id,
            seq=len(own) + 1,
            number=b.number,
            reissue_of=source.id if source else None,
            user_id=user.id,
            created_at=utcnow(),
            lines=len(b.lines),
            total=fen_text(b.total_fen),
            held=len(b.held),
            held_total=fen_text(b.held_fen),
            summary=None,
        )
        db.add(row)
        db.flush()
        db.add_all(_files(settings.data_dir, folder, BATCH_FILES, row.id))
        db.commit()
    except IntegrityError:  # another request made this batch in the meantime (run_id, seq are unique)
        db.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise Refused("BUSY", "另一个请求刚生成了代发批次,请刷新页面") from None
    except BaseException:
        db.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return row


def _files(
    data: Path, folder: Path, kinds: dict[str, tuple[str, str, str, bool]], batch_id: str
) -> list[StoredFile]:
    out = []
    for kind, (_, rel, _, _) in kinds.items():
        p = folder / rel
        if p.is_file():
            out.append(
                StoredFile(
                    batch_id=batch_id,
                    kind=kind,
                    path=str(p.relative_to(data)),
                    sha256=sha256_file(p),
                    size=p.stat().st_size,
                )
            )
    return out


def reconcile_record(b: BankBatch) -> tuple[dict[str, Any], str]:
    """What the access log records of a batch's reconciliation: the count of each kind of line, and the result."""
    s = b.summary or {}
    counts = {k: s.get(k, {}).get("count") for k in ("sent", "paid", "failed", "held", "unresolved")}
    return counts, "ok" if not s.get("error_count") else "errors"


def reconcile(
    settings: Settings, db: Session, run: Run, user: User, source: Any, shown: str
) -> tuple[BankBatch, bool]:
    """Read the bank's return (`source`: a binary file) against the run's latest batch, in the sandbox;
    the batch with its reconciliation, and whether the run is now 已发放 (nothing left unpaid)."""
    release.check_bank_actor(user)
    release.check_locked_files(settings.data_dir, db, run)
    own = batches(db, run)
    if not own:
        raise Refused("NO_BATCH", "还没有导出代发文件,没有可对账的批次")
    last = own[-1]
    if last.summary is not None:
        raise Refused(
            "RECONCILED", f"批次 {last.number} 已对账;发放失败的行请生成补发批次,再上传补发批次的回盘"
        )
    folder = folder_of(settings.data_dir, last)
    source_batch = db.get(BankBatch, last.reissue_of) if last.reissue_of else None
    run_dir, roster, names = _paths(settings, db, run)
    attempt = new_id()[:12]
    received = receive(source, folder / f"return-{attempt}", settings.max_upload_bytes, allow_parquet=False)
    names[received.path] = Path(shown).name[:200] or "银行回盘"
    out = folder / f"recon-{attempt}"
    try:
        summary = run_job(
            "reconcile",
            {
                "run_dir": str(run_dir),
                "roster": str(roster),
                "return_path": str(received.path),
                "out": str(out),
                "reissue": str(recon_of(settings.data_dir, source_batch)) if source_batch else None,
                "number": last.number,
            },
            received.path.parent,
            settings,
            names,
        )
        make_private(folder)
        files = _files(settings.data_dir, out, RECON_FILES, last.id)
        files += [
            StoredFile(
                batch_id=last.id,
                kind="return",
                path=str(received.path.relative_to(settings.data_dir)),
                sha256=sha256_file(received.path),
                size=received.size,
            )
        ]
        summary = {**summary, "return_name": names[received.path], "recon": out.name}
        result = db.execute(  # only the first of two returns sent at once is kept
            update(BankBatch)
            .where(BankBatch.id == last.id, BankBatch.reconciled_at.is_(None))
            .values(summary=summary, reconciled_by=user.id, reconciled_at=utcnow())
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Refused("RECONCILED", f"批次 {last.number} 刚由另一个请求对账,请刷新页面")
        db.add_all(files)
        db.commit()
        db.refresh(last)
    except BaseException:
        db.rollback()
        shutil.rmtree(received.path.parent, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        raise
    done = False
    if not unpaid_lines(db, run):
        release_run(db, run, user, {})
        done = True
    return last, done


def reconcile_files(
    run_dir: str, roster: str, return_path: str, out: str, reissue: str | None, number: str
) -> dict[str, Any]:
    """The reconciliation of a batch, rebuilt from the run folder exactly as exported (run in the sandbox's
    child: the return is an uploaded file); the summary the page shows, 证件号码 masked."""
    layout = load_layout()
    prepared = prepare(run_dir, layout, roster=roster, reissue=reissue)
    if prepared.batch.number != number:
        raise InputError(f"运行目录重建的批次号 {prepared.batch.number} 与导出时的 {number} 不同,无法对账")
    rec, _ = settle(prepared, layout, Path(return_path), Path(out))
    b = rec.batch

    def counted(lines: list[BankLine]) -> dict[str, Any]:
        return {"count": len(lines), "amount": fen_text(sum(x.fen for x in lines))}

    def line(x: BankLine, kind: str, reason: str) -> dict[str, Any]:
        return {
            "key": f"{x.month} {x.program} {x.household_id} {mask_id(x.id_number)}",
            "kind": kind,
            "seq": x.seq,
            "name": x.name,
            "household": x.household_id,
            "month": x.month,
            "program": x.program,
            "title": x.program_title,
            "amount": fen_text(x.fen),
            "reason": mask_text(reason),
        }

    codes: dict[str, int] = {}
    for e in rec.errors:
        codes[e.code] = codes.get(e.code, 0) + 1
    return {
        "number": b.number,
        "sent": counted(b.lines),
        "paid": counted(rec.paid),
        "failed": counted([x for x, _ in rec.failed]),
        "held": counted(b.held),
        "unresolved": counted(rec.unresolved),
        "error_count": len(rec.errors),
        "error_codes": dict(sorted(codes.items())),
        "errors": [{"code": e.code, "message": mask_text(e.message)} for e in rec.errors[:SHOWN_ERRORS]],
        "unpaid": [line(x, "failed", reason) for x, reason in rec.failed]
        + [line(x, "held", x.payee.check.message) for x in b.held]
        + [line(x, "unresolved", UNRESOLVED) for x in rec.unresolved],
    }


def unpaid_lines(db: Session, run: Run) -> list[dict[str, Any]]:
    """The lines not paid: what the last reconciliation left failed, held back or unresolved, and the earlier
    batches' unresolved lines (a re-issue sends failed and held-back lines again, never an unresolved one)."""
    own = batches(db, run)
    out: list[dict[str, Any]] = []
    for b in own[:-1]:
        out += [u for u in (b.summary or {}).get("unpaid", []) if u["kind"] == "unresolved"]
    if own:
        out += (own[-1].summary or {}).get("unpaid", [])
    return out


def release_run(db: Session, run: Run, user: User, written_off: dict[str, str]) -> states.Release:
    """已审核 → 已发放 once the last batch is reconciled and every unpaid line is written off with a reason."""
    own = batches(db, run)
    if not own or own[-1].summary is None:
        raise Refused("NOT_RECONCILED", "代发批次的银行回盘对账之后才能确认发放")
    r = release.record_of(db, run)
    keys = [u["key"] for u in unpaid_lines(db, run)]
    when = utcnow()
    offs = {k: v[:500] for k, v in written_off.items() if k in keys}
    new = states.release(r, release.actor(user), unpaid=keys, written_off=offs, at=release.now_text(when))
    release.store(db, run, new, released_at=when)
    return new


BATCH_NUMBER = re.compile(r"\d{6}R?[0-9A-F]{12}")  # release/batch.py's batch_number: never personal


def shown_number(number: str) -> str:
    """A batch number for a page: as it is (the page's mask would take its digits for a 证件号码)."""
    return Markup(escape(number)) if BATCH_NUMBER.fullmatch(number) else number


def bank_panel(db: Session, run: Run, user: User) -> dict[str, Any]:
    """What the run page shows of the bank: batches, their files, the reconciliations, what is left to pay."""
    own = batches(db, run)
    kinds: dict[str, set[str]] = {}
    for f in db.scalars(select(StoredFile).where(StoredFile.batch_id.in_([b.id for b in own]))):
        kinds.setdefault(f.batch_id or "", set()).add(f.kind)
    last = own[-1] if own else None
    state = run.release_state
    town_person = user.role in ("caseworker", "reviewer")
    approved = state == State.APPROVED
    return {
        "batches": [
            {
                "batch": b,
                "number": shown_number(b.number),
                "files": [
                    (k, v[0])
                    for k, v in {**BATCH_FILES, **RECON_FILES}.items()
                    if k in kinds.get(b.id, set())
                ],
            }
            for b in own
        ],
        "can_export": town_person and approved and not own,
        "can_reconcile": town_person and approved and last is not None and last.summary is None,
        "can_reissue": town_person
        and approved
        and last is not None
        and last.summary is not None
        and bool(last.summary["failed"]["count"] or last.summary["held"]["count"]),
        "can_release": town_person and approved and last is not None and last.summary is not None,
        "unpaid": unpaid_lines(db, run) if last is not None and last.summary is not None else [],
    }
