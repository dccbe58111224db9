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


def _parse_unique(raw: pd.Series, fn: Callable[[object], object]) -> tuple[np.ndarray, np.ndarray, dict[int, CellError]]:
    """Apply fn to each distinct non-blank value: (codes per row, parsed uniques, errors by unique index)."""
    codes, uniques = pd.factorize(raw.to_numpy(dtype=object), use_na_sentinel=True)
    parsed = np.empty(len(uniques), dtype=object)
    errors: dict[int, CellError] = {}
    for i, u in enumerate(uniques):
        if cells.is_blank(u):
            parsed[i] = None
            continue
        try:
            parsed[i] = fn(u)
        except CellError as e:
            errors[i] = e
            parsed[i] = None
    return codes, parsed, errors


def _texts(raw: pd.Series) -> np.ndarray:
    """Trimmed text per row, None for blank."""
    values = raw.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        s = pd.Series(values, dtype="string").str.strip(cells.TRIM)
        out = s.to_numpy(dtype=object, na_value=None)
        out[s.fillna("").to_numpy(dtype=object) == ""] = None
        return out
    codes, parsed, _ = _parse_unique(raw, cells.as_text)
    out = np.where(codes >= 0, parsed[np.maximum(codes, 0)], None)
    return out


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


def validate(raw: RawRoster) -> Validated:
    f = raw.frame
    n = len(f)
    headers = raw.headers
    problems = _Problems()
    parsed: dict[str, np.ndarray] = {}
    ok: dict[str, np.ndarray] = {}  # cell parsed (or blank) without error
    text_of: dict[str, np.ndarray] = {}

    for col in COLUMNS:
        series = f[col.alias]
        good = np.ones(n, dtype=bool)
        if col.kind in ("text", "id"):
            values = _texts(series)
            if col.kind == "id" or col.alias == "disability_cert":
                values = np.array([v.upper() if v is not None else None for v in values], dtype=object)
            parsed[col.alias] = values
            text_of[col.alias] = values
            blank = pd.isna(values)
        else:
            codes, uniq, errors = _parse_unique(series, _kind_parser(col))
            blank = codes < 0
            uniq_blank = np.array([v is None and i not in errors for i, v in enumerate(uniq)] or [True])
            blank = blank | (uniq_blank[np.maximum(codes, 0)] & (codes >= 0))
            if errors:
                for ui, err in errors.items():
                    for pos in np.flatnonzero(codes == ui):
                        problems.add(pos, col.alias, cells.as_text(series.iat[pos]), err.code, err.message)
                        good[pos] = False
            parsed[col.alias] = _typed(col, codes, uniq, blank)
        if col.required:
            for pos in np.flatnonzero(blank):
                problems.add(pos, col.alias, "", "REQUIRED", f"{col.name} 为必填项")
                good[pos] = False
        ok[col.alias] = good

    ids = parsed["id_number"]
    _check_ids(ids, ok, problems)
    _check_duplicates(ids, f[ROW].to_numpy(), problems)
    _check_rows(parsed, ok, ids, text_of, problems, headers)
    if EXTRA in f:
        for pos in np.flatnonzero(f[EXTRA].notna().to_numpy()):
            problems.add(pos, EXTRA, str(f[EXTRA].iat[pos]), "ROW_TOO_LONG", "本行的单元格比表头多,多出的内容无法对应到列")

    has_error = np.zeros(n, dtype=bool)
    has_error[np.array(problems.pos, dtype=np.int64)] = True
    hh = parsed["household_id"]
    _check_households(hh, parsed, ok, f[ROW].to_numpy(), f, problems)
    has_error[np.array(problems.pos, dtype=np.int64)] = True

    hh_key = pd.Series(hh, dtype=object).fillna("\x00blank")
    bad_hh = pd.Series(has_error).groupby(hh_key.to_numpy()).transform("any").to_numpy().copy()
    bad_hh |= pd.isna(hh)
    for pos in np.flatnonzero(bad_hh & ~has_error):
        problems.add(pos, "household_id", "", "HOUSEHOLD_REJECTED",
                     f"同户(户编号 {hh[pos]})其他行有错误或户级问题,整户不予计算")

    accepted = ~bad_hh
    persons = pd.DataFrame({alias: pd.Series(values[accepted], dtype=values.dtype) for alias, values in parsed.items()})
    persons[ROW] = f[ROW].to_numpy()[accepted]
    rejects = _rejects_frame(problems, f, text_of, headers)
    hh_all = pd.Series(hh, dtype=object)
    return Validated(
        persons=persons.reset_index(drop=True),
        rejects=rejects,
        rows_read=n,
        rows_rejected=int(bad_hh.sum()),
        households_accepted=int(hh_all[accepted].nunique()),
        households_rejected=int(hh_all[bad_hh].nunique()),
    )


def _typed(col: Column, codes: np.ndarray, uniq: np.ndarray, blank: np.ndarray) -> np.ndarray:
    take = np.maximum(codes, 0)
    if col.kind == "bool":
        lookup = np.array([bool(v) if v is not None else bool(col.default) for v in uniq] or [False])
        out = lookup[take] if len(uniq) else np.zeros(len(codes), dtype=bool)
        return np.where(blank, bool(col.default), out)
    if col.kind in ("date", "month"):
        lookup = np.array([v if v is not None else NO_DATE for v in uniq] or [NO_DATE], dtype=np.int64)
        return np.where(codes >= 0, lookup[take], NO_DATE)
    if col.kind == "money":
        lookup = np.array([v if v is not None else NO_MONEY for v in uniq] or [NO_MONEY], dtype=np.int64)
        return np.where(codes >= 0, lookup[take], NO_MONEY)
    if col.kind == "int":
        lookup = np.array([v if v is not None else 0 for v in uniq] or [0], dtype=np.int64)
        return np.where(codes >= 0, lookup[take], 0)
    # enum: text or None
    lookup_o = np.array(list(uniq) or [None], dtype=object)
    return np.where(codes >= 0, lookup_o[take], None)


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


def _check_rows(
    p: dict[str, np.ndarray],
    ok: dict[str, np.ndarray],
    ids: np.ndarray,
    text_of: dict[str, np.ndarray],
    problems: _Problems,
    headers: dict[str, str],
) -> None:
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
    del headers, text_of


def _check_households(
    hh: np.ndarray,
    p: dict[str, np.ndarray],
    ok: dict[str, np.ndarray],
    rows: np.ndarray,
    f: pd.DataFrame,
    problems: _Problems,
) -> None:
    present = np.flatnonzero(~pd.isna(hh))
    if len(present) == 0:
        return
    key = pd.Series(hh[present], dtype=object)
    codes, _ = pd.factorize(key.to_numpy(dtype=object))
    rel = p["relation"][present]
    rel_ok = ok["relation"][present]
    is_head = (rel == "户主") & rel_ok
    heads = np.bincount(codes, weights=is_head.astype(np.int64))
    all_rel_ok = np.bincount(codes, weights=(~rel_ok).astype(np.int64)) == 0
    head_pos_by_hh = np.full(len(heads), -1, dtype=np.int64)
    single = np.flatnonzero(is_head)
    head_pos_by_hh[codes[single]] = present[single]
    for i in np.flatnonzero((heads == 0) & all_rel_ok):
        for pos in present[codes == i]:
            problems.add(pos, "relation", str(p["relation"][pos]), "HOUSEHOLD_NO_HEAD",
                         f"户编号 {hh[pos]} 没有与户主关系为“户主”的成员")
    multi = (heads > 1)[codes] & is_head
    for pos in present[multi]:
        others = "、".join(str(rows[q]) for q in present[(codes == codes[np.searchsorted(present, pos)]) & is_head]
                          if q != pos)
        problems.add(pos, "relation", "户主", "HOUSEHOLD_MULTIPLE_HEADS", f"户编号 {hh[pos]} 有多个户主(另见第 {others} 行)")
    head_pos_by_hh[heads != 1] = -1

    for col in HOUSEHOLD_COLUMNS[1:]:
        values = p[col.alias][present]
        good = ok[col.alias][present]
        if good.all():
            vcodes, _ = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        else:
            vcodes, _ = pd.factorize(pd.Series(np.where(good, values, None), dtype=object), use_na_sentinel=False)
        frame = pd.DataFrame({"h": codes, "v": vcodes})[good]
        counts = frame.groupby("h")["v"].nunique()
        bad = counts.index[counts.to_numpy() > 1].to_numpy()
        if len(bad) == 0:
            continue
        for h in bad:
            members = np.flatnonzero((codes == h) & good)
            head = head_pos_by_hh[h]
            if head >= 0 and ok[col.alias][head]:
                ref = vcodes[np.searchsorted(present, head)]
                ref_row = f"户主行(第 {rows[head]} 行)"
            else:
                vals, cnt = np.unique(vcodes[members], return_counts=True)
                ref = vals[np.argmax(cnt)]
                ref_row = "本户多数行"
            ref_text = _display(col, p[col.alias][present[members[vcodes[members] == ref][0]]])
            for m in members[vcodes[members] != ref]:
                pos = present[m]
                problems.add(pos, col.alias, cells.as_text(f[col.alias].iat[pos]) if not cells.is_blank(
                    f[col.alias].iat[pos]) else "", "HOUSEHOLD_MISMATCH",
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


def _rejects_frame(problems: _Problems, f: pd.DataFrame, text_of: dict[str, np.ndarray],
                   headers: dict[str, str]) -> pd.DataFrame:
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
    del text_of
    return frame.reset_index(drop=True)
