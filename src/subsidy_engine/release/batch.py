"""The batch of a run folder: one bank line per payee and month/program, numbered, or held back for its account.

A payee's payment lines of one month and program are one bank line (a student's two 教育资助 lines, 国家助学金
and 雨露计划, are paid together); the payment list's order is kept and 序号 counts the lines sent, from 1. The
batch number is made from the run's manifest (and, for a re-issue, from the lines re-issued), so the same run
gives the same batch, and `reconcile` can rebuild exactly what was sent. The lines sent plus the lines held back
are the payment list, amount for amount: checked before anything is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from subsidy_engine.errors import EvaluationError
from subsidy_engine.money import fen_text
from subsidy_engine.privacy import mask_id
from subsidy_engine.release.accounts import PayeeAccount
from subsidy_engine.release.layout import Layout
from subsidy_engine.release.runfolder import RunFolder, RunFolderError

LINE_KEY = ["发放月份", "项目", "规则", "户编号", "证件号码"]  # one payment line
BANK_KEY = ["发放月份", "项目", "户编号", "证件号码"]  # one bank line


@dataclass(frozen=True)
class BankLine:
    seq: int  # 序号 in the batch; 0 for a line held back
    month: str
    program: str
    program_title: str
    household_id: str
    id_number: str
    name: str
    town: str
    village: str
    fen: int
    memo: str
    positions: tuple[int, ...]  # the payment lines (rows of RunFolder.payments) this bank line pays
    payee: PayeeAccount

    @property
    def account(self) -> str:
        return self.payee.check.account

    def value(self, name: str) -> str:
        """The text of a layout field (layout.FIELDS)."""
        return {
            "seq": str(self.seq),
            "name": self.name,
            "id_number": self.id_number,
            "account": self.account,
            "bank": self.payee.bank,
            "amount": fen_text(self.fen),
            "program": self.program,
            "program_title": self.program_title,
            "memo": self.memo,
            "month": self.month,
            "household_id": self.household_id,
            "town": self.town,
            "village": self.village,
        }[name]


@dataclass
class Batch:
    number: str
    run: RunFolder
    lines: list[BankLine]  # sent, 序号 1..n
    held: list[BankLine]  # held back: no usable account (payee.check says why)
    reissue_of: str = ""  # the reconciliation folder whose unpaid lines this batch re-issues
    notes: list[str] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return sum(line.fen for line in self.lines)

    @property
    def held_fen(self) -> int:
        return sum(line.fen for line in self.held)

    def context(self) -> dict[str, str]:
        """The placeholders of the layout's header and control lines."""
        return {
            "batch": self.number,
            "count": str(len(self.lines)),
            "total": fen_text(self.total_fen),
            "period": self.run.period,
        }


def batch_number(period: str, manifest_sha256: str, reissue: bytes = b"") -> str:
    """Period digits + 12 hex digits of the run's manifest hash (+ the re-issued lines): `202309` + `3F9A…`;
    a re-issue has `R` after the period. Letters and digits only, as banks want."""
    digest = hashlib.sha256(manifest_sha256.encode("ascii") + reissue).hexdigest()[:12].upper()
    return f"{period.replace('-', '')}{'R' if reissue else ''}{digest}"


def build_batch(
    run: RunFolder,
    accounts: dict[str, PayeeAccount],
    layout: Layout,
    positions: np.ndarray | None = None,
    reissue: bytes = b"",
    reissue_of: str = "",
) -> Batch:
    """The batch of the payment lines at `positions` (all of them when None) of `run`."""
    p = run.payments
    take = np.arange(len(p)) if positions is None else np.sort(np.asarray(positions, dtype=np.int64))
    sent: list[BankLine] = []
    held: list[BankLine] = []
    cols = {c: p[c].to_numpy(dtype=object) for c in [*BANK_KEY, "姓名", "乡镇", "行政村"]}
    fen = p["_fen"].to_numpy()
    group: list[int] = []

    def close(members: list[int]) -> None:
        i = members[0]
        month, program, hh, pid = (str(cols[c][i]) for c in BANK_KEY)
        payee = accounts.get(pid)
        if payee is None:
            raise RunFolderError(
                f"发放名单第 {i + 2} 行的证件号码 {mask_id(pid)} 不在名册的有效行中:运行目录与名册不符"
            )
        title = run.titles.get(program, program)
        line = BankLine(
            seq=0 if payee.check.code else len(sent) + 1,
            month=month,
            program=program,
            program_title=title,
            household_id=hh,
            id_number=pid,
            name=str(cols["姓名"][i]),
            town=str(cols["乡镇"][i]),
            village=str(cols["行政村"][i]),
            fen=int(fen[members].sum()),
            memo=layout.memo.format(year=month[:4], month=month[5:7], program_title=title, program=program),
            positions=tuple(members),
            payee=payee,
        )
        (held if payee.check.code else sent).append(line)

    for i in take.tolist():
        if group and any(cols[c][i] != cols[c][group[0]] for c in BANK_KEY):
            close(group)
            group = []
        group.append(i)
    if group:
        close(group)
    batch = Batch(batch_number(run.period, run.manifest_sha256, reissue), run, sent, held, reissue_of)
    if batch.total_fen + batch.held_fen != int(fen[take].sum()):
        raise EvaluationError("代发批次的金额与发放名单不符(程序错误,请报告)")
    return batch
