"""Reading the first sheet of an .xlsx roster (python-calamine) once `xlsx_guard` has found it safe to read.

Typed cells stay typed (numbers, dates, booleans). Error cells (#N/A …) and formulas without a computed value,
which the reader gives as blank, become read problems of their rows (CELL_ERROR, FORMULA_NO_VALUE).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from python_calamine import CalamineWorkbook

from subsidy_engine.errors import FileFormatError
from subsidy_engine.limits import Limits
from subsidy_engine.roster.cellgrid import Cells, blank, column_label, frame_from_rows
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.reasons import Reason
from subsidy_engine.roster.xlsx_guard import Mark, check_xlsx


def read_xlsx(p: Path, raw: bytes, limits: Limits) -> Cells:
    book = check_xlsx(raw, str(p), limits)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        sheet = wb.get_sheet_by_index(0)
        data = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise FileFormatError(
            f"{p}: 无法读取为 Excel 工作簿({type(exc).__name__}: {str(exc)[:200]})", path=str(p)
        ) from None
    sheets = "、".join(f"「{s}」" for s in book.sheets[:20])
    start = next((i for i, r in enumerate(data) if any(not blank(c) for c in r)), None)
    if start is None:
        others = f";工作簿中的工作表: {sheets},花名册须放在第一个工作表" if len(book.sheets) > 1 else ""
        raise FileFormatError(f"{p}: 第一个工作表「{book.sheets[0]}」是空的,没有表头行{others}", path=str(p))
    header = ["" if blank(c) else str(c).strip(TRIM) for c in data[start]]
    body = data[start + 1 :]
    last = max((m.row for m in book.marks), default=0) - start - 1  # a formula past the last value
    body += [[] for _ in range(last - len(body))]
    if book.longest_text > limits.cell_chars:  # some text might be too long: look cell by cell
        _refuse_long_cells(p, header, data[start:], start + 1, limits)
    marks: dict[int, list[tuple[int | str, str, str, str]]] = {}
    for m in book.marks:
        at = m.row - start - 2
        if at >= 0:
            marks.setdefault(at, []).append(_problem(m))
    note = (
        f"(只读取第一个工作表「{book.sheets[0]}」;工作簿中的工作表: {sheets})" if len(book.sheets) > 1 else ""
    )
    numbers = np.arange(start + 2, start + 2 + len(body))
    return Cells(header, frame_from_rows(header, body, marks), numbers, note)


def _problem(m: Mark) -> tuple[int | str, str, str, str]:
    if m.code == Reason.CELL_ERROR:
        why = "公式出错,多为 VLOOKUP 没有找到" if m.text == "#N/A" else "公式出错"
        msg = f"单元格为错误值 {m.text}({why}),不能当作空白;请在 Excel 中修正后重新导入"
        return (m.col, m.text, m.code, msg)
    formula = f"公式 ={m.text}" if m.text else "共享公式"
    msg = (
        f"单元格是{formula},但文件中没有它的计算结果(文件未经 Excel 计算保存),不能当作空白;"
        "请在 Excel 中打开、重新计算并保存后再导入"
    )
    return (m.col, m.text or "(共享公式)", m.code, msg)


def _refuse_long_cells(
    p: Path, header: list[str], rows: Sequence[Sequence[object]], first: int, limits: Limits
) -> None:
    for i, r in enumerate(rows):
        for j, c in enumerate(r):
            if isinstance(c, str) and len(c) > limits.cell_chars:
                raise FileFormatError(
                    f"{p}: 第 {first + i} 行{column_label(header, j)}的单元格有 {len(c)} 个字符,超过上限 "
                    f"{limits.cell_chars}(SUBSIDY_MAX_CELL_CHARS)",
                    path=str(p),
                )
