"""The 公示 of a run: per 行政村, one row per household and program with the period's total, for a printed
A4 notice and an .xlsx with one sheet per village. Program names in Chinese, 证件号码 masked (6 + ******** + 4);
no 规则, no 依据, nothing about income or disability."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from subsidy_engine.audit.workbook import write_sheets
from subsidy_engine.money import fen, fen_text
from subsidy_engine.privacy import mask_id

COLUMNS = ["序号", "户编号", "姓名", "证件号码", "项目", "月数", "金额"]


def households(payments: pd.DataFrame, titles: dict[str, str]) -> dict[str, pd.DataFrame]:
    """行政村 → its rows (COLUMNS), in the order of the payment list (户编号, then the rulebook's programs)."""
    if payments.empty:
        return {}
    p = payments.copy()
    p["_fen"] = [fen(v) for v in p["金额"]]
    order = {code: i for i, code in enumerate(titles)}
    out: dict[str, pd.DataFrame] = {}
    for village, part in p.groupby("行政村", sort=True):
        rows = []
        for (household, program), g in part.groupby(["户编号", "项目"], sort=False):
            people = g.drop_duplicates("证件号码")
            rows.append(
                {
                    "_order": (household, order.get(str(program), len(order))),
                    "户编号": household,
                    "姓名": "、".join(people["姓名"]),
                    "证件号码": "、".join(mask_id(v) for v in people["证件号码"]),
                    "项目": titles.get(str(program), str(program)),
                    "月数": str(g["发放月份"].nunique()),
                    "金额": fen_text(int(g["_fen"].sum())),
                }
            )
        rows.sort(key=lambda r: r["_order"])
        frame = pd.DataFrame(rows).drop(columns="_order")
        frame.insert(0, "序号", [str(i) for i in range(1, len(frame) + 1)])
        out[str(village)] = frame[COLUMNS]
    return out


def total(frame: pd.DataFrame) -> str:
    return fen_text(sum(fen(v) for v in frame["金额"]))


def write_publicity_xlsx(villages: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per 行政村 (its name), amounts as numbers shown #,##0.00, a 合计 row last."""
    sheets = []
    for village, frame in villages.items():
        last = pd.DataFrame([["合计", "", "", "", "", "", total(frame)]], columns=COLUMNS)
        sheets.append((village, pd.concat([frame, last], ignore_index=True)))
    write_sheets(path, sheets)
