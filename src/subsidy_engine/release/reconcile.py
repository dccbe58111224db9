"""Matching the bank's return with the batch sent: paid, failed, and every disagreement named line by line.

A returned row is matched on 序号 and checked on 代发账号 and 金额. A line is paid (or failed, with the bank's
reason) only when its one returned row agrees with what was sent; anything else is an error, and the line is
neither paid nor failed until someone resolves it with the bank: a 序号 never sent, the same 序号 twice, another
account or amount, a status that is neither success nor failure, a row that cannot be read, and a line sent but
not returned. Failed lines, and lines held back for their account, can be re-issued; an unresolved line is not
(it may have been paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from subsidy_engine.money import fen_text
from subsidy_engine.privacy import mask_id
from subsidy_engine.release.batch import BankLine, Batch
from subsidy_engine.release.returns import ReturnRow

ERRORS = {
    "UNKNOWN_LINE": "回盘中有本批次没有发送的序号",
    "DUPLICATE_LINE": "同一序号在回盘中出现多次",
    "ACCOUNT_DIFFERS": "回盘的代发账号与发送的不同",
    "AMOUNT_DIFFERS": "回盘的金额与发送的不同",
    "STATUS_UNKNOWN": "回盘状态既不是成功也不是失败",
    "BAD_ROW": "回盘行的序号或金额无法识别",
    "NOT_RETURNED": "已发送但回盘中没有",
}
NO_REASON = "(银行未给出原因)"


@dataclass(frozen=True)
class ReturnError:
    code: str  # a key of ERRORS
    message: str
    line: BankLine | None  # the line sent (None for a row that matches no line)
    row: ReturnRow | None  # the row returned (None for a line not returned)


@dataclass
class Reconciliation:
    batch: Batch
    paid: list[BankLine] = field(default_factory=list)
    failed: list[tuple[BankLine, str]] = field(default_factory=list)  # with the bank's reason
    unresolved: list[BankLine] = field(default_factory=list)  # sent, neither paid nor failed: see errors
    errors: list[ReturnError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _where(line: BankLine) -> str:
    return f"序号 {line.seq}({line.name},{mask_id(line.id_number)},{line.month} {line.program_title})"


def reconcile(batch: Batch, rows: list[ReturnRow]) -> Reconciliation:
    """Every line of `batch` paid, failed or unresolved, and every error, in the order of the return."""
    out = Reconciliation(batch)
    by_seq = {line.seq: line for line in batch.lines}
    first: dict[int, ReturnRow] = {}
    bad: set[int] = set()

    def error(code: str, message: str, line: BankLine | None, row: ReturnRow | None) -> None:
        out.errors.append(ReturnError(code, message, line, row))

    for r in rows:
        if r.seq is None:
            error("BAD_ROW", f"回盘第 {r.row} 行:序号 {r.seq_text!r} 不是正整数", None, r)
            continue
        line = by_seq.get(r.seq)
        if line is None:
            error(
                "UNKNOWN_LINE",
                f"回盘第 {r.row} 行:序号 {r.seq} 不在批次 {batch.number} 中(从未发送)",
                None,
                r,
            )
            continue
        if r.seq in first:
            error(
                "DUPLICATE_LINE",
                f"回盘第 {r.row} 行:{_where(line)} 已在第 {first[r.seq].row} 行回盘过",
                line,
                r,
            )
            bad.add(r.seq)
            continue
        first[r.seq] = r
        here = f"回盘第 {r.row} 行:{_where(line)}"
        if r.account != line.account:
            error("ACCOUNT_DIFFERS", f"{here} 回盘账号与发送的不同", line, r)
            bad.add(r.seq)
        if r.fen is None:
            error("BAD_ROW", f"{here} 金额 {r.amount_text!r} 无法识别", line, r)
            bad.add(r.seq)
        elif r.fen != line.fen:
            error(
                "AMOUNT_DIFFERS",
                f"{here} 回盘金额 {fen_text(r.fen)} 元,发送的是 {fen_text(line.fen)} 元",
                line,
                r,
            )
            bad.add(r.seq)
        if not r.status:
            error("STATUS_UNKNOWN", f"{here} 状态 {r.status_text!r} 无法识别", line, r)
            bad.add(r.seq)
    for line in batch.lines:
        if line.seq not in first:
            error("NOT_RETURNED", f"{_where(line)} 已发送,回盘中没有", line, None)
            out.unresolved.append(line)
        elif line.seq in bad:
            out.unresolved.append(line)
        elif first[line.seq].status == "paid":
            out.paid.append(line)
        else:
            out.failed.append((line, first[line.seq].reason or NO_REASON))
    return out
