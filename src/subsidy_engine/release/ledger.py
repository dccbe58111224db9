"""The reconciliation folder: paid.csv, failed.csv, held.csv, errors.csv and summary.json, and reading it back.

paid.csv is in the payment-list format (`subsidy diff` and `subsidy audit --paid` read it): every payment line
paid so far for the run, this batch's and, for a re-issue, the earlier reconciliation's. failed.csv (the bank's
reason) and held.csv (not sent: no usable account) are the lines still to pay, one row per payment line; a
re-issue batch is made from them (`read_unpaid`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from subsidy_engine.errors import InputError
from subsidy_engine.money import fen_text
from subsidy_engine.release.batch import LINE_KEY, BankLine
from subsidy_engine.release.reconcile import Reconciliation
from subsidy_engine.release.runfolder import RunFolder
from subsidy_engine.run import safecells
from subsidy_engine.run.outdir import atomic_folder, os_errors
from subsidy_engine.run.output import write_csv
from subsidy_engine.run.payments import PAYMENT_COLUMNS, SORT_KEY

FAILED_COLUMNS = [*PAYMENT_COLUMNS, "批次号", "序号", "代发账号", "失败原因"]
HELD_COLUMNS = [*PAYMENT_COLUMNS, "批次号", "名册行号", "原因代码", "说明"]
ERROR_COLUMNS = [
    *["类型", "说明", "序号", "回盘行号", "发放月份", "项目", "户编号", "证件号码", "姓名"],
    *["发送账号", "回盘账号", "发送金额", "回盘金额", "回盘状态"],
]
FILES = ("paid.csv", "failed.csv", "held.csv", "errors.csv", "summary.json")


class ReconciliationFolderError(InputError):
    """A folder given to --reissue that is not a reconciliation folder of this run's period."""


def _lines_frame(run: RunFolder, lines: list[BankLine], extra: dict[str, list[str]]) -> pd.DataFrame:
    """The payment lines of `lines` (PAYMENT_COLUMNS), each with the values of `extra` for its bank line."""
    positions = [p for line in lines for p in line.positions]
    frame = run.payments.iloc[positions][PAYMENT_COLUMNS].reset_index(drop=True)
    for name, values in extra.items():
        frame[name] = [v for line, v in zip(lines, values, strict=True) for _ in line.positions]
    return frame


def _count(lines: list[BankLine]) -> dict[str, object]:
    return {"count": len(lines), "amount": fen_text(sum(line.fen for line in lines))}


def write_reconciliation(
    rec: Reconciliation, out: Path, return_file: Path, previous_paid: pd.DataFrame | None, *, overwrite: bool
) -> list[Path]:
    """The reconciliation folder at `out`, whole or not at all; returns the files written."""
    b, run = rec.batch, rec.batch.run
    paid = _lines_frame(run, rec.paid, {})
    if previous_paid is not None and len(previous_paid):
        paid = pd.concat([previous_paid[PAYMENT_COLUMNS], paid], ignore_index=True)
        paid = paid.sort_values(SORT_KEY, kind="stable").reset_index(drop=True)
    failed = _lines_frame(
        run,
        [line for line, _ in rec.failed],
        {
            "批次号": [b.number] * len(rec.failed),
            "序号": [str(line.seq) for line, _ in rec.failed],
            "代发账号": [line.account for line, _ in rec.failed],
            "失败原因": [reason for _, reason in rec.failed],
        },
    )
    held = _lines_frame(
        run,
        b.held,
        {
            "批次号": [b.number] * len(b.held),
            "名册行号": [str(line.payee.row) for line in b.held],
            "原因代码": [line.payee.check.code for line in b.held],
            "说明": [line.payee.check.message for line in b.held],
        },
    )
    errors = pd.DataFrame(
        [
            [
                e.code,
                e.message,
                str(e.line.seq) if e.line else (e.row.seq_text if e.row else ""),
                str(e.row.row) if e.row else "",
                e.line.month if e.line else "",
                e.line.program if e.line else "",
                e.line.household_id if e.line else "",
                e.line.id_number if e.line else "",
                e.line.name if e.line else "",
                e.line.account if e.line else "",
                e.row.account if e.row else "",
                fen_text(e.line.fen) if e.line else "",
                e.row.amount_text if e.row else "",
                e.row.status_text if e.row else "",
            ]
            for e in rec.errors
        ],
        columns=ERROR_COLUMNS,
        dtype=object,
    )
    codes: dict[str, int] = {}
    for e in rec.errors:
        codes[e.code] = codes.get(e.code, 0) + 1
    summary = {
        "batch": b.number,
        "reissue_of": b.reissue_of,
        "period": run.period,
        "run": {"folder": str(run.path), "manifest_sha256": run.manifest_sha256},
        "return_file": {
            "name": return_file.name,
            "sha256": hashlib.sha256(return_file.read_bytes()).hexdigest(),
        },
        "sent": _count(b.lines),
        "paid": _count(rec.paid),
        "failed": _count([line for line, _ in rec.failed]),
        "held": _count(b.held),
        "unresolved": _count(rec.unresolved),
        "errors": dict(sorted(codes.items())),
        "paid_so_far": {
            "payment_lines": len(paid),
            "amount": fen_text(sum(int(v.replace(".", "")) for v in paid["金额"])),
        },
    }
    with atomic_folder(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
        write_csv(paid, tmp / "paid.csv")
        write_csv(failed, tmp / "failed.csv")
        write_csv(held, tmp / "held.csv")
        write_csv(errors, tmp / "errors.csv")
        (tmp / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return [out / name for name in FILES]


@dataclass
class Unpaid:
    """What a reconciliation folder leaves to pay: the lines failed at the bank and the lines held back."""

    folder: Path
    batch: str
    period: str
    fen: dict[tuple[str, ...], int]  # LINE_KEY → amount, for every line to re-issue
    failed_accounts: dict[tuple[str, ...], str]  # LINE_KEY → the account the bank refused
    paid: pd.DataFrame  # the lines paid so far (paid.csv)
    digest: bytes  # names the re-issue: its batch number is made from it

    def positions(self, run: RunFolder) -> np.ndarray:
        """The rows of `run`'s payment list to re-issue; each must be there with the same amount."""
        p = run.payments
        keys = list(zip(*(p[c].tolist() for c in LINE_KEY), strict=True))
        at = {k: i for i, k in enumerate(keys)}
        problems = []
        found = []
        for key, fen in self.fen.items():
            i = at.get(key)
            if i is None:
                problems.append(f"{' '.join(key[:3])} 户 {key[3]} 不在新的发放名单中")
            elif int(p["_fen"].iat[i]) != fen:
                problems.append(f"{' '.join(key[:3])} 户 {key[3]} 金额变了(原 {fen_text(fen)} 元)")
            else:
                found.append(i)
        if problems:
            more = f" 等 {len(problems)} 处" if len(problems) > 5 else ""
            raise ReconciliationFolderError(
                f"{run.path} 的发放名单与 {self.folder} 中待补发的行不符:{';'.join(problems[:5])}{more};"
                "补发只发原来的金额,金额变了请走更正"
            )
        return np.array(sorted(found), dtype=np.int64)


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise ReconciliationFolderError(f"{path}: 无法读取({type(exc).__name__})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReconciliationFolderError(f"{path}: 缺少列 {'、'.join(missing)},不是本程序的对账结果")
    for c in frame.columns:
        if c != "金额":
            frame[c] = [safecells.restore(v) for v in frame[c]]
    return frame


def read_unpaid(folder: str | Path, period: str) -> Unpaid:
    """The lines a reconciliation folder leaves to pay (for a re-issue in the same period)."""
    d = Path(folder)
    missing = [name for name in FILES if not (d / name).is_file()]
    if missing:
        raise ReconciliationFolderError(
            f"{d} 缺少 {'、'.join(missing)},不是 subsidy bank reconcile 的输出目录"
        )
    try:
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        batch, was = str(summary["batch"]), str(summary["period"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReconciliationFolderError(f"{d / 'summary.json'}: 无法读取({type(exc).__name__})") from None
    if was != period:
        raise ReconciliationFolderError(f"{d} 是期间 {was} 的对账结果,运行目录的期间是 {period}")
    failed = _read(d / "failed.csv", FAILED_COLUMNS)
    held = _read(d / "held.csv", HELD_COLUMNS)
    fen: dict[tuple[str, ...], int] = {}
    accounts: dict[tuple[str, ...], str] = {}
    for frame in (failed, held):
        for rec in frame.to_dict("records"):
            key = tuple(str(rec[c]) for c in LINE_KEY)
            fen[key] = int(str(rec["金额"]).replace(".", ""))
            if "代发账号" in rec:
                accounts[key] = str(rec["代发账号"])
    digest = hashlib.sha256(
        batch.encode() + (d / "failed.csv").read_bytes() + (d / "held.csv").read_bytes()
    ).digest()
    return Unpaid(d, batch, was, fen, accounts, _read(d / "paid.csv", PAYMENT_COLUMNS), digest)
