"""Comparing what was actually paid (实发) with what the rules give (应发), line by line (docs/design.md §4).

Both lists are in the payment format of docs/specification.md §5 (.csv or .xlsx; the paid list may lack 规则 and 依据). Lines are
matched on (发放月份, 项目, 户编号, 证件号码); under one key the amounts are compared as a multiset, since one
person may have two lines of one program in one month (a 中职 student's two education_aid lines). Equal amounts
cancel; what is left is paired smallest with smallest and reported as `amount` (超标准 when paid more, 少发
when paid less); an unpaired computed amount is `missing` (应发未发), an unpaired paid amount `extra`
(不应发而发). Money stays integer fen. A line that cannot be read is reported with its row number, never dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from subsidy_engine.audit.workbook import write_sheets
from subsidy_engine.cli.texttable import table
from subsidy_engine.errors import InputError
from subsidy_engine.money import fen_text
from subsidy_engine.privacy import mask_id
from subsidy_engine.roster import cells
from subsidy_engine.run import safecells
from subsidy_engine.run.output import write_csv

KEY = ["发放月份", "项目", "户编号", "证件号码"]
REQUIRED = [*KEY, "金额"]
OPTIONAL = ["规则", "姓名", "乡镇", "行政村", "依据"]
DIFF_COLUMNS = ["差异类型", *KEY, "姓名", "乡镇", "行政村", "应发金额", "实发金额", "差额", "说明"]
BAD_LINE_COLUMNS = ["文件", "行号", "列", "值", "说明"]
KIND_TEXT = {"missing": "应发未发", "extra": "不应发而发", "over": "超标准", "under": "少发"}
SUMMARY_COLUMNS = [
    "应发合计",
    "实发合计",
    "应发未发笔数",
    "应发未发金额",
    "不应发而发笔数",
    "不应发而发金额",
    "超标准笔数",
    "超标准金额",
    "少发笔数",
    "少发金额",
]


class PaymentFileError(InputError):
    """A payment file that cannot be compared at all (missing file, unknown format, a required column missing)."""


@dataclass
class PaymentList:
    """A payment list read for comparison: KEY + 姓名/乡镇/行政村 as text, `_fen` amounts, `_row` numbers."""

    lines: pd.DataFrame
    bad_lines: pd.DataFrame  # BAD_LINE_COLUMNS
    label: str


@dataclass
class DiffResult:
    lines: pd.DataFrame  # DIFF_COLUMNS + `_kind` (missing / extra / over / under), `_due`, `_paid` (fen)
    bad_lines: pd.DataFrame
    by_program: pd.DataFrame  # 项目 + SUMMARY_COLUMNS, a 合计 row last
    by_village: pd.DataFrame  # 乡镇, 行政村 + SUMMARY_COLUMNS, a 合计 row last
    paid_fen: int
    due_fen: int

    @property
    def agree(self) -> bool:
        return len(self.lines) == 0 and len(self.bad_lines) == 0


# --- reading ------------------------------------------------------------------------------------------------


def _raw_rows(path: Path) -> tuple[list[str], list[list[object]]]:
    suffix = path.suffix.lower()
    rows: list[list[object]]
    if suffix in (".xlsx", ".xlsm"):
        from python_calamine import CalamineWorkbook  # late: start-up, xlsx reader

        try:
            data = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())).get_sheet_by_index(0)
            rows = [list(r) for r in data.to_python(skip_empty_area=False)]
        except Exception as exc:  # calamine raises its own types for every kind of broken file
            raise PaymentFileError(f"{path}: 无法读取为 Excel 工作簿({type(exc).__name__})") from None
    elif suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise PaymentFileError(f"{path}: 编码无法识别(应为 UTF-8 或 GB18030)") from None
        # our own CSVs put `'` before a text a spreadsheet could take for a formula: read the text itself
        rows = [[safecells.restore(c) for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
    else:
        raise PaymentFileError(f"{path}: 不支持的文件类型 {suffix!r}(支持 .csv / .xlsx)")
    if not rows:
        raise PaymentFileError(f"{path}: 文件是空的,没有表头行")
    header = ["" if cells.is_blank(c) else cells.as_text(c) for c in rows[0]]
    return header, rows[1:]


def read_payments(path: str | Path, label: str = "实发") -> PaymentList:
    """Read a payment list; every line that cannot be read goes to `bad_lines` with its row number."""
    p = Path(path)
    if not p.is_file():
        raise PaymentFileError(f"{p}: 文件不存在")
    header, body = _raw_rows(p)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise PaymentFileError(f"{p}: 缺少必需的列 {'、'.join(missing)}(实发名单应与本系统的发放名单同列名)")
    where = {c: header.index(c) for c in REQUIRED + OPTIONAL if c in header}
    out: dict[str, list[object]] = {c: [] for c in [*KEY, "姓名", "乡镇", "行政村", "_fen", "_row"]}
    bad: list[list[object]] = []
    for i, row in enumerate(body):
        rowno = i + 2
        cellv = {c: (row[j] if j < len(row) else None) for c, j in where.items()}
        if all(cells.is_blank(v) for v in row):
            continue
        problems = []
        month = cellv["发放月份"]
        try:
            month_label = cells.month_text(cells.parse_month(month))
        except cells.CellError as e:
            problems.append(("发放月份", month, e.message))
        for c in ("项目", "户编号", "证件号码"):
            if cells.is_blank(cellv[c]):
                problems.append((c, cellv[c], f"{c} 为空"))
        try:
            fen = cells.parse_money(cellv["金额"]) if not cells.is_blank(cellv["金额"]) else None
            if fen is None:
                problems.append(("金额", "", "金额 为空"))
        except cells.CellError as e:
            problems.append(("金额", cellv["金额"], e.message))
        if problems:
            bad += [
                [label, rowno, c, "" if cells.is_blank(v) else cells.as_text(v), msg]
                for c, v, msg in problems
            ]
            continue
        out["发放月份"].append(month_label)
        out["项目"].append(cells.as_text(cellv["项目"]))
        out["户编号"].append(cells.as_text(cellv["户编号"]))
        out["证件号码"].append(cells.as_text(cellv["证件号码"]).upper())
        for c in ("姓名", "乡镇", "行政村"):
            v = cellv.get(c)
            out[c].append("" if cells.is_blank(v) else cells.as_text(v))
        out["_fen"].append(fen)
        out["_row"].append(rowno)
    lines = pd.DataFrame(out)
    lines["_fen"] = lines["_fen"].astype(np.int64)
    lines["_row"] = lines["_row"].astype(np.int64)
    return PaymentList(lines, pd.DataFrame(bad, columns=BAD_LINE_COLUMNS), label)


def from_run(payments: pd.DataFrame, label: str = "应发") -> PaymentList:
    """A run's payment frame (with `_fen`) as a PaymentList."""
    lines = payments[[*KEY, "姓名", "乡镇", "行政村"]].astype(str).copy()
    lines["_fen"] = payments["_fen"].to_numpy(dtype=np.int64)
    lines["_row"] = np.arange(2, len(lines) + 2, dtype=np.int64)
    return PaymentList(lines.reset_index(drop=True), pd.DataFrame(columns=BAD_LINE_COLUMNS), label)


# --- comparing ----------------------------------------------------------------------------------------------


def _ranked(f: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    f = f.sort_values(list(dict.fromkeys([*by, "_fen"])), kind="stable")
    f = f.assign(_n=f.groupby(by, sort=False).cumcount())
    return f


def diff(paid: PaymentList, due: PaymentList) -> DiffResult:
    info = ["姓名", "乡镇", "行政村"]
    a = _ranked(due.lines, [*KEY, "_fen"])
    b = _ranked(paid.lines, [*KEY, "_fen"])
    exact = a[[*KEY, "_fen", "_n"]].merge(b[[*KEY, "_fen", "_n"]], how="outer", indicator=True)
    left = exact[exact["_merge"] == "left_only"][[*KEY, "_fen", "_n"]]
    right = exact[exact["_merge"] == "right_only"][[*KEY, "_fen", "_n"]]
    a_rest = _ranked(a.merge(left, on=[*KEY, "_fen", "_n"])[[*KEY, *info, "_fen"]], KEY)
    b_rest = _ranked(b.merge(right, on=[*KEY, "_fen", "_n"])[[*KEY, *info, "_fen"]], KEY)
    m = a_rest.merge(b_rest, on=[*KEY, "_n"], how="outer", suffixes=("_due", "_paid"))
    due_f = m["_fen_due"]
    paid_f = m["_fen_paid"]
    kind = np.where(
        due_f.isna(), "extra", np.where(paid_f.isna(), "missing", np.where(paid_f > due_f, "over", "under"))
    )
    m = m.assign(_kind=kind)
    for c in info:
        m[c] = m[f"{c}_due"].where(m[f"{c}_due"].notna() & (m[f"{c}_due"] != ""), m[f"{c}_paid"]).fillna("")
    m["_due"] = due_f.fillna(0).astype(np.int64)
    m["_paid"] = paid_f.fillna(0).astype(np.int64)
    m["差异类型"] = np.where(np.isin(kind, ["over", "under"]), "amount", kind)
    m["应发金额"] = [fen_text(int(v)) if not pd.isna(v) else "" for v in due_f]
    m["实发金额"] = [fen_text(int(v)) if not pd.isna(v) else "" for v in paid_f]
    m["差额"] = [fen_text(int(v)) for v in m["_paid"] - m["_due"]]
    m["说明"] = [KIND_TEXT[k] for k in kind]
    m = m.sort_values([*KEY, "差异类型", "_due", "_paid"], kind="stable").reset_index(drop=True)
    lines = m[[*DIFF_COLUMNS, "_kind", "_due", "_paid"]]
    bad = pd.concat([b for b in (paid.bad_lines, due.bad_lines) if len(b)] or [paid.bad_lines])
    return DiffResult(
        lines=lines,
        bad_lines=bad.reset_index(drop=True),
        by_program=_summary(lines, paid.lines, due.lines, ["项目"]),
        by_village=_summary(lines, paid.lines, due.lines, ["乡镇", "行政村"]),
        paid_fen=int(paid.lines["_fen"].sum()),
        due_fen=int(due.lines["_fen"].sum()),
    )


def _summary(lines: pd.DataFrame, paid: pd.DataFrame, due: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: totals due and paid, and count and amount of each kind of difference (yuan text)."""
    groups = sorted(
        set(map(tuple, due[by].to_numpy().tolist()))
        | set(map(tuple, paid[by].to_numpy().tolist()))
        | set(map(tuple, lines[by].to_numpy().tolist()))
    )
    rows: list[list[object]] = []

    def one(label: list[str], sel_l: pd.DataFrame, sel_p: pd.DataFrame, sel_d: pd.DataFrame) -> None:
        row: list[object] = [*label, fen_text(int(sel_d["_fen"].sum())), fen_text(int(sel_p["_fen"].sum()))]
        for k in ("missing", "extra", "over", "under"):
            part = sel_l[sel_l["_kind"] == k]
            amount = {
                "missing": part["_due"].sum(),
                "extra": part["_paid"].sum(),
                "over": (part["_paid"] - part["_due"]).sum(),
                "under": (part["_due"] - part["_paid"]).sum(),
            }[k]
            row += [len(part), fen_text(int(amount))]
        rows.append(row)

    def select(f: pd.DataFrame, g: tuple[str, ...]) -> pd.DataFrame:
        mask = np.ones(len(f), dtype=bool)
        for c, v in zip(by, g, strict=True):
            mask &= f[c].to_numpy() == v
        return f[mask]

    for g in groups:
        one(list(g), select(lines, g), select(paid, g), select(due, g))
    one(["合计"] + [""] * (len(by) - 1), lines, paid, due)
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


def diff_files(paid: str | Path, computed: str | Path) -> DiffResult:
    return diff(read_payments(paid, "实发"), read_payments(computed, "应发"))


# --- reporting ----------------------------------------------------------------------------------------------


def diff_text(result: DiffResult, limit: int = 20) -> str:
    """What the terminal shows: the verdict, per-program totals, the first differing lines (IDs masked)."""
    out = [f"应发 {fen_text(result.due_fen)} 元,实发 {fen_text(result.paid_fen)} 元"]
    if result.agree:
        out.append("两份名单一致:没有差异")
        return "\n".join(out)
    counts = result.by_program.iloc[-1]
    out.append(
        f"差异 {len(result.lines)} 笔:应发未发 {counts['应发未发笔数']} 笔 {counts['应发未发金额']} 元,"
        f"不应发而发 {counts['不应发而发笔数']} 笔 {counts['不应发而发金额']} 元,"
        f"超标准 {counts['超标准笔数']} 笔 {counts['超标准金额']} 元,"
        f"少发 {counts['少发笔数']} 笔 {counts['少发金额']} 元"
    )
    if len(result.bad_lines):
        out.append(f"无法读取的行 {len(result.bad_lines)} 条:")
        rows = [["文件", "行号", "列", "值", "说明"]]
        for r in result.bad_lines.head(limit).itertuples(index=False):
            value = mask_id(r.值) if r.列 == "证件号码" else str(r.值)
            rows.append([str(r.文件), str(r.行号), str(r.列), value, str(r.说明)])
        out.append(table(rows, right={1}))
    if len(result.lines):
        summary = result.by_program[result.by_program.iloc[:, 0] != "合计"]
        summary = summary[(summary["应发合计"] != summary["实发合计"]) | (summary["应发未发笔数"] > 0)]
        rows = [["项目", "应发", "实发", "应发未发", "不应发而发", "超标准", "少发"]]
        for r in summary.itertuples(index=False):
            rows.append(
                [str(r[0]), r[1], r[2], r.应发未发金额, r.不应发而发金额, r.超标准金额, r.少发金额]  # type: ignore[list-item]
            )
        out.append(table(rows, right={1, 2, 3, 4, 5, 6}))
        rows = [["类型", "发放月份", "项目", "户编号", "证件号码", "应发", "实发"]]
        for r in result.lines.head(limit).itertuples(index=False):
            rows.append([r.说明, r.发放月份, r.项目, r.户编号, mask_id(r.证件号码), r.应发金额, r.实发金额])
        out.append(table(rows, right={5, 6}))
        if len(result.lines) > limit:
            out.append(f"……另有 {len(result.lines) - limit} 笔差异,见 diff.csv")
    return "\n".join(out)


def write_diff(
    result: DiffResult, out_dir: str | Path | None = None, xlsx: str | Path | None = None
) -> list[Path]:
    """diff.csv (and bad_lines.csv when some lines could not be read) in out_dir; the workbook at `xlsx`."""
    written: list[Path] = []
    if out_dir is not None:
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        write_csv(result.lines[DIFF_COLUMNS], d / "diff.csv")
        written.append(d / "diff.csv")
        if len(result.bad_lines):
            write_csv(result.bad_lines, d / "bad_lines.csv")
            written.append(d / "bad_lines.csv")
    if xlsx is not None:
        write_sheets(Path(xlsx), diff_sheets(result))
        written.append(Path(xlsx))
    return written


def diff_sheets(result: DiffResult) -> list[tuple[str, pd.DataFrame]]:
    return [
        ("差异按项目", result.by_program),
        ("差异按行政村", result.by_village),
        ("差异明细", result.lines[DIFF_COLUMNS]),
        ("无法读取的行", result.bad_lines),
    ]
