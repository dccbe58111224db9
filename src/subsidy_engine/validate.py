"""Lazy validation of a raw roster (SPEC §2): every problem of every row, then whole households accepted or not.

Each problem is one `Problem` (row number, column, value, reason code, message). A household is evaluated only
from a complete, valid set of rows: one bad row, a household field on which members disagree, or no / two 户主
rejects the whole household, and its innocent rows get `HOUSEHOLD_REJECTED`. accepted + rejected = rows read.
Columns are parsed once per distinct value (`cells.py`), so the cost follows the distinct values, not the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cells, idcard
from .cells import CellError
from .roster import EXTRA, ROW, RawRoster
from .schema import BY_ALIAS, COLUMNS, HOUSEHOLD_COLUMNS, Column

NO_DATE = np.iinfo(np.int64).max  # a blank date/month: never (death, risk end, certificate end, 低保 end)
NO_MONEY = -1
REJECT_COLUMNS = ["行号", "户编号", "证件号码", "姓名", "列", "值", "原因代码", "说明"]
_COLUMN_ORDER = {c.alias: i for i, c in enumerate(COLUMNS)}

REASONS: dict[str, str] = {
    "REQUIRED": "必填项为空",
    "BAD_ENUM": "不是允许的取值",
    "BAD_BOOL": "是/否 取值无法识别",
    "BAD_DATE": "日期无法识别",
    "BAD_MONTH": "月份无法识别",
    "BAD_MONEY": "金额格式错误",
    "MONEY_NEGATIVE": "金额为负数",
    "MONEY_PRECISION": "金额超过两位小数",
    "BAD_INT": "应为整数",
    "GRADE_RANGE": "年级不在 1–6",
    "GRADE_REQUIRED": "中职学生缺年级",
    "ID_FORMAT": "证件号码格式错误",
    "ID_BIRTH_DATE": "证件号码出生日期无效",
    "ID_CHECKSUM": "证件号码校验位错误",
    "ID_DUPLICATE": "证件号码重复",
    "CERT_FORMAT": "残疾证号格式错误",
    "CERT_NOT_OWN": "残疾证号与本人证件号码不符",
    "DIBAO_FROM_REQUIRED": "低保户缺低保起始月",
    "DIBAO_INCOME_REQUIRED": "低保户缺家庭月人均收入",
    "DIBAO_END_BEFORE_START": "低保终止月早于起始月",
    "DIBAO_COVERED_NOT_DIBAO": "非低保户成员标为低保在保",
    "DEATH_BEFORE_BIRTH": "死亡日期早于出生日期",
    "ROW_TOO_LONG": "本行单元格多于表头",
    "HOUSEHOLD_MISMATCH": "同户成员的户级字段不一致",
    "HOUSEHOLD_NO_HEAD": "本户没有户主",
    "HOUSEHOLD_MULTIPLE_HEADS": "本户有多个户主",
    "HOUSEHOLD_REJECTED": "同户其他行有错误,整户不予计算",
}


@dataclass
class Validated:
    persons: pd.DataFrame  # accepted rows, typed columns (see `_PARSERS`), `_row`, sorted by input order
    rejects: pd.DataFrame  # one line per problem, REJECT_COLUMNS
    rows_read: int
    rows_rejected: int
    households_accepted: int
    households_rejected: int

    @property
    def rows_accepted(self) -> int:
        return len(self.persons)


class _Problems:
    def __init__(self) -> None:
        self.pos: list[int] = []
        self.col: list[str] = []
        self.value: list[str] = []
        self.code: list[str] = []
        self.msg: list[str] = []

    def add(self, pos: int, alias: str, value: str, code: str, msg: str) -> None:
        self.pos.append(int(pos))
        self.col.append(alias)
        self.value.append(value)
        self.code.append(code)
        self.msg.append(msg)


@dataclass
class _Parsed:
    values: np.ndarray  # typed per row: text/enum as object (None = blank), bool, int64 (NO_DATE/NO_MONEY/0 = blank)
    ok: np.ndarray  # parsed without error
    blank: np.ndarray
    codes: np.ndarray  # the same code for rows with the same parsed value (household comparison)
    enum_codes: np.ndarray | None = None  # int8 index into Column.values, -1 = blank or error


def _factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = series if isinstance(series.dtype, pd.StringDtype) else series.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _texts(series: pd.Series, upper: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trimmed text per row with None for blank, blank mask, codes equal for equal texts)."""
    if isinstance(series.dtype, pd.StringDtype):
        s = series.str.strip(cells.TRIM)
        if upper:
            s = s.str.upper()
        blank = (s.isna() | (s == "")).to_numpy(dtype=bool)
        codes = np.asarray(s.factorize(use_na_sentinel=False)[0], dtype=np.int64)
        out = s.to_numpy(dtype=object, na_value=None)
        out[blank] = None
        return out, blank, codes
    raw_codes, uniques = _factorize(series)
    texts = [cells.as_text(u) for u in uniques]
    lookup = np.array([(t.upper() if upper else t) or None for t in texts] + [None], dtype=object)
    text_codes = np.asarray(pd.factorize(lookup, use_na_sentinel=False)[0], dtype=np.int64)
    return lookup[raw_codes], np.array([v is None for v in lookup], dtype=bool)[raw_codes], text_codes[raw_codes]


def _kind_parser(col: Column) -> Callable[[object], object]:
    if col.kind == "enum":
        return lambda v: cells.parse_enum(v, col.values)
    return {
        "bool": cells.parse_bool,
        "date": cells.parse_date,
        "month": cells.parse_month,
        "money": cells.parse_money,
        "int": cells.parse_int,
    }[col.kind]


_BLANK_VALUE = {"date": NO_DATE, "month": NO_DATE, "money": NO_MONEY, "int": 0}


def _parse_column(col: Column, series: pd.Series, problems: _Problems) -> _Parsed:
    n = len(series)
    if col.kind in ("text", "id"):
        values, blank, codes = _texts(series, upper=col.kind == "id" or col.alias == "disability_cert")
        return _Parsed(values, np.ones(n, dtype=bool), blank, codes)
    raw_codes, uniques = _factorize(series)
    parse = _kind_parser(col)
    blank_value: object = col.default if col.kind == "bool" else _BLANK_VALUE.get(col.kind)
    typed: list[object] = []
    u_ok = np.ones(len(uniques) + 1, dtype=bool)
    u_blank = np.zeros(len(uniques) + 1, dtype=bool)
    u_blank[-1] = True  # raw code -1 (a missing cell) is the last slot
    errors: dict[int, cells.CellError] = {}
    for i, u in enumerate(uniques):
        if cells.is_blank(u):
            typed.append(blank_value)
            u_blank[i] = True
            continue
        try:
            typed.append(parse(u))
        except cells.CellError as e:
            errors[i] = e
            typed.append(blank_value)
            u_ok[i] = False
    typed.append(blank_value)
    dtype = {"bool": bool, "enum": object}.get(col.kind, np.int64)
    lookup = np.array(typed, dtype=dtype)
    values = lookup[raw_codes]
    ok = u_ok[raw_codes]
    blank = u_blank[raw_codes]
    if errors:
        bad_u = np.array(sorted(errors), dtype=np.int64)
        for pos in np.flatnonzero(np.isin(raw_codes, bad_u)):
            err = errors[int(raw_codes[pos])]
            problems.add(pos, col.alias, cells.as_text(series.iat[pos]), err.code, err.message)
    value_codes, _ = pd.factorize(pd.Series(lookup, dtype=object), use_na_sentinel=False)
    codes = np.asarray(value_codes, dtype=np.int64)[raw_codes]
    enum_codes = None
    if col.kind == "enum":
        index = {v: i for i, v in enumerate(col.values)}
        enum_codes = np.array([index.get(v, -1) if v is not None else -1 for v in typed], dtype=np.int8)[raw_codes]
    return _Parsed(values, ok, blank, codes, enum_codes)


def validate(raw: RawRoster) -> Validated:
    f = raw.frame
    n = len(f)
    problems = _Problems()
    cols: dict[str, _Parsed] = {}
    for col in COLUMNS:
        pc = _parse_column(col, f[col.alias], problems)
        if col.required:
            for pos in np.flatnonzero(pc.blank):
                problems.add(pos, col.alias, "", "REQUIRED", f"{col.name} 为必填项")
            pc.ok &= ~pc.blank
        cols[col.alias] = pc
    parsed = {a: c.values for a, c in cols.items()}
    ok = {a: c.ok for a, c in cols.items()}
    rows = f[ROW].to_numpy()

    ids = parsed["id_number"]
    _check_ids(ids, ok, problems)
    _check_duplicates(ids, rows, problems)
    _check_rows(parsed, ok, ids, problems)
    if EXTRA in f:
        for pos in np.flatnonzero(f[EXTRA].notna().to_numpy()):
            problems.add(pos, EXTRA, str(f[EXTRA].iat[pos]), "ROW_TOO_LONG", "本行的单元格比表头多,多出的内容无法对应到列")
    hh = parsed["household_id"]
    _check_households(hh, cols, rows, f, problems)

    has_error = np.zeros(n, dtype=bool)
    has_error[np.array(problems.pos, dtype=np.int64)] = True
    hh_codes = cols["household_id"].codes
    bad_hh = np.bincount(hh_codes, weights=has_error, minlength=hh_codes.max() + 1 if n else 0)[hh_codes] > 0 \
        if n else np.zeros(0, dtype=bool)
    bad_hh |= cols["household_id"].blank
    for pos in np.flatnonzero(bad_hh & ~has_error):
        problems.add(pos, "household_id", "", "HOUSEHOLD_REJECTED",
                     f"同户(户编号 {hh[pos]})其他行有错误或户级问题,整户不予计算")

    accepted = ~bad_hh
    persons = pd.DataFrame(index=pd.RangeIndex(int(accepted.sum())))
    for col in COLUMNS:
        pc = cols[col.alias]
        if pc.enum_codes is not None:
            persons[col.alias] = pd.Categorical.from_codes(pc.enum_codes[accepted], categories=list(col.values))
        else:
            persons[col.alias] = pd.Series(pc.values[accepted], dtype=pc.values.dtype)
    persons[ROW] = rows[accepted]
    rejects = _rejects_frame(problems, f, raw.headers)
    return Validated(
        persons=persons,
        rejects=rejects,
        rows_read=n,
        rows_rejected=int(bad_hh.sum()),
        households_accepted=len(np.unique(hh_codes[accepted])),
        households_rejected=len(np.unique(hh_codes[bad_hh & ~cols["household_id"].blank]))
        + int((bad_hh & cols["household_id"].blank).any()),
    )


def _check_ids(ids: np.ndarray, ok: dict[str, np.ndarray], problems: _Problems) -> None:
    present = np.flatnonzero(~pd.isna(ids))
    valid = idcard.check_ids(ids[present])
    for pos in present[~valid]:
        code_msg = idcard.id_problem(ids[pos])
        if code_msg is not None:
            problems.add(pos, "id_number", ids[pos], code_msg[0], code_msg[1])
            ok["id_number"][pos] = False


def _check_duplicates(ids: np.ndarray, rows: np.ndarray, problems: _Problems) -> None:
    s = pd.Series(ids, dtype=object)
    dup = s.duplicated(keep=False) & s.notna()
    if not dup.any():
        return
    groups = pd.Series(np.flatnonzero(dup.to_numpy())).groupby(s[dup].to_numpy())
    for _, positions in groups:
        pos_list = positions.tolist()
        for pos in pos_list:
            others = "、".join(str(rows[p]) for p in pos_list if p != pos)
            problems.add(pos, "id_number", ids[pos], "ID_DUPLICATE", f"证件号码与第 {others} 行重复")


def _check_rows(p: dict[str, np.ndarray], ok: dict[str, np.ndarray], ids: np.ndarray, problems: _Problems) -> None:
    n = len(ids)
    area_set = ~pd.isna(p["dibao_area"]) & ok["dibao_area"]
    for pos in np.flatnonzero(area_set & (p["dibao_from"] == NO_DATE) & ok["dibao_from"]):
        problems.add(pos, "dibao_from", "", "DIBAO_FROM_REQUIRED", "低保类别已填,低保起始月必填")
    for pos in np.flatnonzero(area_set & (p["income_per_capita_month"] == NO_MONEY) & ok["income_per_capita_month"]):
        problems.add(pos, "income_per_capita_month", "", "DIBAO_INCOME_REQUIRED", "低保类别已填,家庭月人均收入必填")
    both = (p["dibao_from"] != NO_DATE) & (p["dibao_to"] != NO_DATE) & ok["dibao_from"] & ok["dibao_to"]
    for pos in np.flatnonzero(both & (p["dibao_to"] < p["dibao_from"])):
        problems.add(pos, "dibao_to", cells.month_text(p["dibao_to"][pos]), "DIBAO_END_BEFORE_START",
                     f"低保终止月早于低保起始月 {cells.month_text(p['dibao_from'][pos])}")
    no_area = pd.isna(p["dibao_area"]) & ok["dibao_area"]
    for pos in np.flatnonzero(no_area & p["dibao_covered"] & ok["dibao_covered"]):
        problems.add(pos, "dibao_covered", "是", "DIBAO_COVERED_NOT_DIBAO", "本户未填低保类别(非低保户),成员不能低保在保")
    stage = p["school_stage"]
    for pos in np.flatnonzero((stage == "中职") & (p["grade"] == 0) & ok["grade"]):
        problems.add(pos, "grade", "", "GRADE_REQUIRED", "在校学段为中职时年级必填")
    for pos in np.flatnonzero((p["grade"] != 0) & ((p["grade"] < 1) | (p["grade"] > 6)) & ok["grade"]):
        problems.add(pos, "grade", str(p["grade"][pos]), "GRADE_RANGE", "年级应为 1–6")
        ok["grade"][pos] = False
    cert = p["disability_cert"]
    for pos in np.flatnonzero(~pd.isna(cert)):
        c = cert[pos]
        if len(c) != 20 or c[18] not in "1234567" or c[19] not in "1234":
            problems.add(pos, "disability_cert", c, "CERT_FORMAT",
                         "残疾证号应为20位:本人证件号码 + 残疾类别(1–7) + 残疾等级(1–4)")
        elif ids[pos] is not None and c[:18] != ids[pos]:
            problems.add(pos, "disability_cert", c, "CERT_NOT_OWN", "残疾证号前18位应为持证人本人的证件号码")
    valid_id = ~pd.isna(ids) & ok["id_number"]
    births = np.full(n, NO_DATE, dtype=np.int64)
    if valid_id.any():
        births[valid_id] = idcard.birth_day_numbers(ids[valid_id])
    died = p["died_on"]
    for pos in np.flatnonzero(valid_id & (died != NO_DATE) & (died < births) & ok["died_on"]):
        problems.add(pos, "died_on", cells.from_day_number(died[pos]).isoformat(), "DEATH_BEFORE_BIRTH",
                     f"死亡日期早于出生日期 {cells.from_day_number(births[pos]).isoformat()}")


def _check_households(hh: np.ndarray, cols: dict[str, _Parsed], rows: np.ndarray, f: pd.DataFrame,
                      problems: _Problems) -> None:
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
    for h in np.flatnonzero((heads == 0) & all_rel_ok):
        for pos in present[codes == h]:
            problems.add(pos, "relation", str(rel[np.searchsorted(present, pos)]), "HOUSEHOLD_NO_HEAD",
                         f"户编号 {hh[pos]} 没有与户主关系为“户主”的成员")
    for h in np.flatnonzero(heads > 1):
        members = present[(codes == h) & is_head]
        for pos in members:
            others = "、".join(str(rows[q]) for q in members if q != pos)
            problems.add(pos, "relation", "户主", "HOUSEHOLD_MULTIPLE_HEADS", f"户编号 {hh[pos]} 有多个户主(另见第 {others} 行)")

    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    hh_of_start = codes[order][starts]
    for col in HOUSEHOLD_COLUMNS[1:]:
        pc = cols[col.alias]
        good = pc.ok[present]
        v = pc.codes[present]
        low = np.minimum.reduceat(np.where(good, v, np.iinfo(np.int64).max)[order], starts)
        high = np.maximum.reduceat(np.where(good, v, -1)[order], starts)
        bad = hh_of_start[(high >= 0) & (low != high)]
        for h in bad:
            members = np.flatnonzero((codes == h) & good)
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
                problems.add(pos, col.alias, "" if cells.is_blank(cell) else cells.as_text(cell), "HOUSEHOLD_MISMATCH",
                             f"{col.name} 与{ref_row}的值 {ref_text!r} 不一致,同户成员的户级字段必须相同")


def _display(col: Column, value: object) -> str:
    if value is None:
        return ""
    if col.kind == "date":
        return "" if value == NO_DATE else cells.from_day_number(int(value)).isoformat()  # type: ignore[arg-type]
    if col.kind == "month":
        return "" if value == NO_DATE else cells.month_text(int(value))  # type: ignore[arg-type]
    if col.kind == "money":
        return "" if value == NO_MONEY else f"{int(value) // 100}.{int(value) % 100:02d}"  # type: ignore[arg-type]
    if col.kind == "bool":
        return "是" if value else "否"
    return str(value)


def _rejects_frame(problems: _Problems, f: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    if not problems.pos:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
    pos = np.array(problems.pos, dtype=np.int64)
    rows = f[ROW].to_numpy()[pos]

    def raw_text(alias: str) -> list[str]:
        vals = f[alias].to_numpy(dtype=object)[pos]
        return ["" if cells.is_blank(v) else cells.as_text(v) for v in vals]

    col_names = [headers.get(a, BY_ALIAS[a].name if a in BY_ALIAS else "") if a != EXTRA else "(多余单元格)"
                 for a in problems.col]
    frame = pd.DataFrame({
        "行号": rows,
        "户编号": raw_text("household_id"),
        "证件号码": raw_text("id_number"),
        "姓名": raw_text("name"),
        "列": ["" if c == "HOUSEHOLD_REJECTED" else n for c, n in zip(problems.code, col_names, strict=True)],
        "值": problems.value,
        "原因代码": problems.code,
        "说明": problems.msg,
    })
    order = [(_COLUMN_ORDER.get(a, 99) if c != "HOUSEHOLD_REJECTED" else 100) for a, c in
             zip(problems.col, problems.code, strict=True)]
    frame["_o"] = order
    frame["_i"] = np.arange(len(frame))
    frame = frame.sort_values(["行号", "_o", "_i"], kind="stable").drop(columns=["_o", "_i"])
    return frame.reset_index(drop=True)
