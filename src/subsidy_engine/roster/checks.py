"""The checks across columns and rows of docs/specification.md §2: 证件号码 (checksum, birth date, duplicates), 残疾证号, the 低保
fields that go together, 年级, death after birth, and the household checks (one 户主, members agree)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from subsidy_engine.money import fen_text
from subsidy_engine.roster import cells, idcard
from subsidy_engine.roster.columns import NO_DATE, NO_MONEY, Parsed, Problems
from subsidy_engine.roster.reasons import Reason
from subsidy_engine.roster.schema import HOUSEHOLD_COLUMNS, Column


def check_ids(
    ids: np.ndarray,
    ok: dict[str, np.ndarray],
    problems: Problems,
    column: idcard.IdColumn,
    numeric: np.ndarray | None = None,
) -> np.ndarray:
    """证件号码 shape, birth date and check character; `column` is the whole column's `IdColumn`, `numeric`
    the rows whose cell was a spreadsheet number. Each distinct number is explained once. Returns the rows whose
    number was lost to Excel (a number cell, scientific notation): they are not compared for duplicates."""
    valid = np.zeros(len(ids), dtype=bool)
    valid[column.sized] = column.valid()
    if numeric is not None:
        valid &= ~numeric  # a float's digits past the 15th are not the person's, even when they check
    lost = np.zeros(len(ids), dtype=bool)
    said: dict[tuple[str, bool], tuple[str, str]] = {}
    for pos in np.flatnonzero(~pd.isna(ids) & ~valid):
        number, as_number = ids[pos], bool(numeric is not None and numeric[pos])
        code_msg = said.get((number, as_number))
        if code_msg is None:
            # a number IdColumn finds invalid is invalid: its shape test is the ASCII one used here
            code_msg = idcard.id_problem(number, as_number) or (Reason.ID_FORMAT, "证件号码格式错误")
            said[(number, as_number)] = code_msg
        problems.add(pos, "id_number", number, *code_msg)
        ok["id_number"][pos] = False
        lost[pos] = code_msg[1] == idcard.LOST_TO_EXCEL
    return lost


SHOWN_ROWS = 5  # rows a message names before "等 N 行"


def rows_named(rows: list[int], others: int) -> str:
    """'第 3、4 行', or for a long list the first few: '第 3、4、5、6、7 行等 26000 行'."""
    shown = "、".join(str(r) for r in rows[:SHOWN_ROWS])
    return f"第 {shown} 行" if others <= SHOWN_ROWS else f"第 {shown} 行等 {others} 行"


def _others(members: np.ndarray, rows: np.ndarray) -> list[tuple[int, str]]:
    """(position, the other rows named) for each member of a group: linear, whatever the group's size."""
    first = members[: SHOWN_ROWS + 1].tolist()
    others = len(members) - 1
    return [
        (int(pos), rows_named([int(rows[q]) for q in first if q != pos], others)) for pos in members.tolist()
    ]


def _groups(keys: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
    """`positions` split by equal `keys`, each group in input order."""
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    return np.split(positions[order], np.flatnonzero(k[1:] != k[:-1]) + 1) if len(k) else []


def check_duplicates(
    ids: np.ndarray,
    rows: np.ndarray,
    problems: Problems,
    column: idcard.IdColumn,
    lost: np.ndarray | None = None,
) -> None:
    """The same 证件号码 on several rows: each row names the others (the first few, then how many). Well-formed
    numbers compare as integers (`IdColumn.keys`), any other text by its own hash, in a code space of its own
    (negative). Rows in `lost` (a number Excel turned into a float) are not compared."""
    present = ~pd.isna(ids)
    if lost is not None:
        present &= ~lost
    keys = np.full(len(ids), -1, dtype=np.int64)
    formed = np.zeros(len(ids), dtype=bool)
    formed[column.sized] = column.well_formed
    keys[column.sized] = column.keys()
    other = present & ~formed
    if other.any():
        keys[other] = -2 - pd.factorize(ids[other])[0]
    dup = pd.Series(keys).duplicated(keep=False).to_numpy() & present
    if not dup.any():
        return
    at = np.flatnonzero(dup)
    for members in _groups(keys[at], at):
        for pos, named in _others(members, rows):
            problems.add(pos, "id_number", ids[pos], Reason.ID_DUPLICATE, f"证件号码与{named}重复")


def check_rows(
    p: dict[str, np.ndarray],
    ok: dict[str, np.ndarray],
    ids: np.ndarray,
    problems: Problems,
    column: idcard.IdColumn,
    lost: np.ndarray | None = None,
) -> None:
    """The checks within a row; `lost`: rows whose 证件号码 Excel mangled (no 残疾证号 comparison with it)."""
    n = len(ids)
    area_set = ~pd.isna(p["dibao_area"]) & ok["dibao_area"]
    for pos in np.flatnonzero(area_set & (p["dibao_from"] == NO_DATE) & ok["dibao_from"]):
        problems.add(pos, "dibao_from", "", Reason.DIBAO_FROM_REQUIRED, "低保类别已填,低保起始月必填")
    for pos in np.flatnonzero(
        area_set & (p["income_per_capita_month"] == NO_MONEY) & ok["income_per_capita_month"]
    ):
        problems.add(
            pos,
            "income_per_capita_month",
            "",
            Reason.DIBAO_INCOME_REQUIRED,
            "低保类别已填,家庭月人均收入必填",
        )
    both = (p["dibao_from"] != NO_DATE) & (p["dibao_to"] != NO_DATE) & ok["dibao_from"] & ok["dibao_to"]
    for pos in np.flatnonzero(both & (p["dibao_to"] < p["dibao_from"])):
        problems.add(
            pos,
            "dibao_to",
            cells.month_text(p["dibao_to"][pos]),
            Reason.DIBAO_END_BEFORE_START,
            f"低保终止月早于低保起始月 {cells.month_text(p['dibao_from'][pos])}",
        )
    no_area = pd.isna(p["dibao_area"]) & ok["dibao_area"]
    for pos in np.flatnonzero(no_area & p["dibao_covered"] & ok["dibao_covered"]):
        problems.add(
            pos,
            "dibao_covered",
            "是",
            Reason.DIBAO_COVERED_NOT_DIBAO,
            "本户未填低保类别(非低保户),成员不能低保在保",
        )
    stage = p["school_stage"]
    for pos in np.flatnonzero((stage == "中职") & (p["grade"] == 0) & ok["grade"]):
        problems.add(pos, "grade", "", Reason.GRADE_REQUIRED, "在校学段为中职时年级必填")
    for pos in np.flatnonzero((p["grade"] != 0) & ((p["grade"] < 1) | (p["grade"] > 6)) & ok["grade"]):
        problems.add(pos, "grade", str(p["grade"][pos]), Reason.GRADE_RANGE, "年级应为 1–6")
        ok["grade"][pos] = False
    cert = p["disability_cert"]
    for pos in np.flatnonzero(~pd.isna(cert)):
        c = cert[pos]
        if len(c) != 20 or c[18] not in "1234567" or c[19] not in "1234":
            problems.add(
                pos,
                "disability_cert",
                c,
                Reason.CERT_FORMAT,
                "残疾证号应为20位:本人证件号码 + 残疾类别(1–7) + 残疾等级(1–4)",
            )
        elif ids[pos] is not None and c[:18] != ids[pos] and not (lost is not None and lost[pos]):
            problems.add(
                pos, "disability_cert", c, Reason.CERT_NOT_OWN, "残疾证号前18位应为持证人本人的证件号码"
            )
    valid_id = ~pd.isna(ids) & ok["id_number"]
    births = np.full(n, NO_DATE, dtype=np.int64)
    if valid_id.any():
        all_births = np.full(n, NO_DATE, dtype=np.int64)
        all_births[column.sized] = idcard.days_from_civil(*column.ymd)
        births[valid_id] = all_births[valid_id]
    died = p["died_on"]
    for pos in np.flatnonzero(valid_id & (died != NO_DATE) & (died < births) & ok["died_on"]):
        problems.add(
            pos,
            "died_on",
            cells.from_day_number(died[pos]).isoformat(),
            Reason.DEATH_BEFORE_BIRTH,
            f"死亡日期早于出生日期 {cells.from_day_number(births[pos]).isoformat()}",
        )


def check_households(
    hh: np.ndarray, cols: dict[str, Parsed], rows: np.ndarray, f: pd.DataFrame, problems: Problems
) -> None:
    present = np.flatnonzero(~cols["household_id"].blank)
    if len(present) == 0:
        return
    codes = np.asarray(pd.factorize(cols["household_id"].codes[present])[0], dtype=np.int64)
    n_hh = int(codes.max()) + 1
    rel = cols["relation"].values[present]
    rel_ok = cols["relation"].ok[present]
    is_head = (rel == "户主") & rel_ok
    heads = np.bincount(codes, weights=is_head, minlength=n_hh)
    all_rel_ok = np.bincount(codes, weights=~rel_ok, minlength=n_hh) == 0
    head_pos = np.full(n_hh, -1, dtype=np.int64)
    head_pos[codes[is_head]] = present[is_head]
    head_pos[heads != 1] = -1
    no_head = (heads == 0) & all_rel_ok
    for at in np.flatnonzero(no_head[codes]):
        pos = present[at]
        problems.add(
            pos,
            "relation",
            str(rel[at]),
            Reason.HOUSEHOLD_NO_HEAD,
            f"户编号 {hh[pos]} 没有与户主关系为“户主”的成员",
        )
    many = np.flatnonzero((heads > 1)[codes] & is_head)
    for members in _groups(codes[many], present[many]):
        for pos, named in _others(members, rows):
            problems.add(
                pos,
                "relation",
                "户主",
                Reason.HOUSEHOLD_MULTIPLE_HEADS,
                f"户编号 {hh[pos]} 有多个户主(另见{named})",
            )

    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    hh_of_start = codes[order][starts]
    ends = np.r_[starts[1:], len(order)]  # codes are 0..n_hh-1, each present: h is order[starts[h]:ends[h]]
    for col in HOUSEHOLD_COLUMNS[1:]:
        pc = cols[col.alias]
        good = pc.ok[present]
        v = pc.codes[present]
        low = np.minimum.reduceat(np.where(good, v, np.iinfo(np.int64).max)[order], starts)
        high = np.maximum.reduceat(np.where(good, v, -1)[order], starts)
        bad = hh_of_start[(high >= 0) & (low != high)]
        for h in bad:
            in_h = order[starts[h] : ends[h]]
            members = in_h[good[in_h]]
            head = head_pos[h]
            if head >= 0 and pc.ok[head]:
                ref = pc.codes[head]
                ref_row = f"户主行(第 {rows[head]} 行)"
            else:
                vals, cnt = np.unique(v[members], return_counts=True)
                ref = vals[np.argmax(cnt)]
                ref_row = "本户多数行"
            ref_text = _display(col, pc.values[present[members[v[members] == ref][0]]])
            for m in members[v[members] != ref]:
                pos = present[m]
                cell = f[col.alias].iat[pos]
                problems.add(
                    pos,
                    col.alias,
                    "" if cells.is_blank(cell) else cells.as_text(cell),
                    Reason.HOUSEHOLD_MISMATCH,
                    f"{col.name} 与{ref_row}的值 {ref_text!r} 不一致,同户成员的户级字段必须相同",
                )


def _display(col: Column, value: Any) -> str:
    if value is None:
        return ""
    if col.kind == "date":
        return "" if value == NO_DATE else cells.from_day_number(int(value)).isoformat()
    if col.kind == "month":
        return "" if value == NO_DATE else cells.month_text(int(value))
    if col.kind == "money":
        return "" if value == NO_MONEY else fen_text(int(value))
    if col.kind == "bool":
        return "是" if value else "否"
    return str(value)
