"""Payment lines → the payment list of docs/specification.md §5: columns, text sort order, amounts with exactly two decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from subsidy_engine.arrays import sorted_codes, text_codes
from subsidy_engine.money import fen, fen_text
from subsidy_engine.roster.cells import month_text
from subsidy_engine.rulebook.model import Rulebook

PAYMENT_COLUMNS = ["发放月份", "项目", "规则", "户编号", "证件号码", "姓名", "乡镇", "行政村", "金额", "依据"]
SORT_KEY = ["发放月份", "项目", "户编号", "证件号码", "规则"]
LOCAL_CODES = ("_person", "_household")  # integer codes valid within one payments_frame() result only


PERSON_TEXT = {
    "户编号": "household_id",
    "证件号码": "id_number",
    "姓名": "name",
    "乡镇": "town",
    "行政村": "village",
}


def yuan(fens: np.ndarray | pd.Series) -> np.ndarray:
    """Integer fen → '123.45' (money.fen_text: exactly two decimals, no float); each distinct amount once."""
    f = np.asarray(fens, dtype=np.int64)
    if len(f) == 0:
        return np.array([], dtype=object)
    values, inverse = sorted_codes(f)
    return np.array([fen_text(int(v)) for v in values], dtype=object)[inverse]


def text_rank(values: np.ndarray | pa.Array) -> np.ndarray:
    """Dense ranks of strings in code-point order (UTF-8 byte order), computed by pyarrow."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    arr = (
        values
        if isinstance(values, pa.Array)
        else pa.array(np.asarray(values, dtype=object), type=pa.string())
    )
    return np.asarray(pc.rank(arr, sort_keys="ascending", tiebreaker="dense"), dtype=np.int64)


def _strings(values: np.ndarray | list[str]) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)


def _column(dictionary: pa.Array, codes: np.ndarray) -> pd.Series:
    """A text column as pandas `str` backed by pyarrow, built by taking from the distinct values."""
    return pd.Series(pc.take(dictionary, pa.array(codes)).to_pandas(), copy=False)


def payments_frame(lines: pd.DataFrame, persons: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The payment list, sorted by 发放月份, 项目, 户编号, 证件号码, 规则 compared as text.

    Every text is converted once per distinct value (person, rule, month, amount), never once per line; the
    columns are pyarrow strings, so the CSV writer takes them as they are."""
    refs = {r.id: r.reference for p in rulebook.programs for r in p.rules}
    pos = lines["pos"].to_numpy(dtype=np.int64)
    months = lines["month"].to_numpy(dtype=np.int64)  # YYYY-MM sorts as text the way it sorts as a number
    program_codes, programs = text_codes(lines["program"])
    rule_codes, rules = text_codes(lines["rule"])
    program_rank = text_rank(np.asarray(programs, dtype=object))[program_codes]
    rule_rank = text_rank(np.asarray(rules, dtype=object))[rule_codes]
    paid, at = sorted_codes(pos)  # convert and rank only the persons who have a line
    hh_of_paid = persons["household_id"].to_numpy(dtype=object)[paid]
    person = {c: _strings(persons[alias].to_numpy(dtype=object)[paid]) for c, alias in PERSON_TEXT.items()}
    order = np.lexsort(
        (rule_rank, text_rank(person["证件号码"])[at], text_rank(person["户编号"])[at], program_rank, months)
    )
    at, months = at[order], months[order]
    program_codes, rule_codes = program_codes[order], rule_codes[order]
    fen = lines["amount"].to_numpy(dtype=np.int64)[order]
    month_values, month_codes = sorted_codes(months)
    fen_values, fen_codes = sorted_codes(fen)
    frame = pd.DataFrame(
        {
            "发放月份": _column(_strings([month_text(int(m)) for m in month_values]), month_codes),
            "项目": _column(_strings(programs), program_codes),
            "规则": _column(_strings(rules), rule_codes),
            "户编号": _column(person["户编号"], at),
            "证件号码": _column(person["证件号码"], at),
            "姓名": _column(person["姓名"], at),
            "乡镇": _column(person["乡镇"], at),
            "行政村": _column(person["行政村"], at),
            "金额": _column(_strings([fen_text(int(f)) for f in fen_values]), fen_codes),
            "依据": _column(_strings([refs[r] for r in rules]), rule_codes),
        }
    )
    frame["_fen"] = fen
    # the person and household of each line as integer codes, for totals (an accepted 证件号码 is one person)
    frame[LOCAL_CODES[0]] = at
    frame[LOCAL_CODES[1]] = pd.factorize(hh_of_paid)[0][at]
    return frame


def amounts_fen(payments: pd.DataFrame) -> np.ndarray:
    """The lines' amounts in fen: the `_fen` column when there, else 金额 read by money.fen (once a distinct value)."""
    if "_fen" in payments:
        return payments["_fen"].to_numpy(dtype=np.int64)
    codes, amounts = pd.factorize(payments["金额"].astype(str))
    return np.array([fen(a) for a in amounts], dtype=np.int64)[codes]
