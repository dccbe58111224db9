"""Reading the bank's return (回盘): one row per line the bank processed, with its status and reason.

CSV (UTF-8 with or without BOM, or GB18030) or .xlsx (first sheet). The header row is the first row, among the
first 20, that names the layout's 序号 and 状态 columns (banks put a title or the batch number above it); rows
below it starting with one of the layout's `skip_rows_starting` words (笔数, 合计 …) are control lines, not
lines. Each row keeps its file row number so every problem can be named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from subsidy_engine import limits
from subsidy_engine.audit.diff import PaymentFileError, _raw_rows
from subsidy_engine.errors import InputError
from subsidy_engine.release.accounts import GROUP_SPACES
from subsidy_engine.release.layout import ReturnColumns
from subsidy_engine.roster import cells

HEADER_SEARCH_ROWS = 20


class ReturnFileError(InputError):
    """A return file that cannot be read at all (format, encoding, no header row with the layout's columns)."""


@dataclass(frozen=True)
class ReturnRow:
    row: int  # row number in the file (first row = 1)
    seq: int | None  # None: the 序号 cell is not a positive whole number
    seq_text: str
    account: str  # digits as returned (group spaces dropped)
    fen: int | None  # None: the 金额 cell is not an amount
    amount_text: str
    status: str  # "paid", "failed", or "" when the status text is none of the layout's
    status_text: str
    reason: str


def _text(value: object) -> str:
    return "" if cells.is_blank(value) else cells.as_text(value)


def read_return(path: str | Path, columns: ReturnColumns) -> list[ReturnRow]:
    """Every line of the bank's return, in file order."""
    p = Path(path)
    if not p.is_file():
        raise ReturnFileError(f"{p}: 回盘文件不存在", path=str(p))
    size, most = p.stat().st_size, limits.current().input_bytes
    if size > most:
        raise ReturnFileError(f"{p}: 文件有 {size} 字节,超过上限 {most} 字节", path=str(p))
    try:
        header, body = _raw_rows(p)
    except PaymentFileError as e:
        raise ReturnFileError(str(e), path=str(p)) from None
    rows: list[list[object]] = [list(header), *body]
    at = _header_row(rows, columns)
    if at is None:
        raise ReturnFileError(
            f"{p}: 前 {HEADER_SEARCH_ROWS} 行中没有同时含 {columns.seq!r} 和 {columns.status!r} 的表头行"
            "(回盘的列名与格式文件 return 部分不符?)",
            path=str(p),
        )
    names = [_text(c) for c in rows[at]]
    missing = [n for n in (columns.seq, columns.account, columns.amount, columns.status) if n not in names]
    if missing:
        raise ReturnFileError(f"{p}: 第 {at + 1} 行(表头)缺少列 {'、'.join(missing)}", path=str(p))
    where = {k: names.index(getattr(columns, k)) for k in ("seq", "account", "amount", "status")}
    reason_at = names.index(columns.reason) if columns.reason in names else None
    out = []
    for i in range(at + 1, len(rows)):
        row = rows[i]
        texts = [_text(c) for c in row]
        first = next((t for t in texts if t), "")
        if not first or any(first.startswith(w) for w in columns.skip_rows_starting):
            continue

        def cell(j: int | None, texts: list[str] = texts) -> str:
            return texts[j] if j is not None and j < len(texts) else ""

        seq_text, amount_text, status_text = cell(where["seq"]), cell(where["amount"]), cell(where["status"])
        digits = cells.ascii_width(seq_text)
        try:
            fen: int | None = cells.parse_money(amount_text) if amount_text else None
        except cells.CellError:
            fen = None
        status = "paid" if status_text in columns.paid else "failed" if status_text in columns.failed else ""
        out.append(
            ReturnRow(
                row=i + 1,
                seq=int(digits) if digits.isascii() and digits.isdigit() and int(digits) > 0 else None,
                seq_text=seq_text,
                account=GROUP_SPACES.sub("", cells.ascii_width(cell(where["account"]))),
                fen=fen,
                amount_text=amount_text,
                status=status,
                status_text=status_text,
                reason=cell(reason_at),
            )
        )
    return out


def _header_row(rows: list[list[object]], columns: ReturnColumns) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {_text(c) for c in row}
        if columns.seq in names and columns.status in names:
            return i
    return None
