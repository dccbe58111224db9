"""Payment lines → the payment list of SPEC §5: columns, text sort order, amounts with exactly two decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cells import month_text
from .rulebook import Rulebook

PAYMENT_COLUMNS = ["发放月份", "项目", "规则", "户编号", "证件号码", "姓名", "乡镇", "行政村", "金额", "依据"]
SORT_KEY = ["发放月份", "项目", "户编号", "证件号码", "规则"]


def yuan(fen: np.ndarray | pd.Series) -> np.ndarray:
    """Integer fen → '123.45' (exactly two decimals, no float on the way); each distinct amount formatted once."""
    f = np.asarray(fen, dtype=np.int64)
    if len(f) == 0:
        return np.array([], dtype=object)
    values, inverse = np.unique(f, return_inverse=True)
    return np.array([fen_text(int(v)) for v in values], dtype=object)[inverse]


def fen_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def text_rank(values: np.ndarray) -> np.ndarray:
    """Dense ranks of strings in code-point order (UTF-8 byte order), computed by pyarrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    arr = pa.array(np.asarray(values, dtype=object), type=pa.string())
    return np.asarray(pc.rank(arr, sort_keys="ascending", tiebreaker="dense"), dtype=np.int64)


def payments_frame(lines: pd.DataFrame, persons: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The payment list, sorted by 发放月份, 项目, 户编号, 证件号码, 规则 compared as text."""
    refs = {r.id: r.reference for p in rulebook.programs for r in p.rules}
    pos = lines["pos"].to_numpy(dtype=np.int64)
    months = lines["month"].to_numpy(dtype=np.int64)  # YYYY-MM sorts as text the way it sorts as a number
    programs = lines["program"].to_numpy(dtype=object)
    rules = lines["rule"].to_numpy(dtype=object)
    hh = persons["household_id"].to_numpy(dtype=object)
    ids = persons["id_number"].to_numpy(dtype=object)
    program_rank = {p: i for i, p in enumerate(sorted(set(programs)))}
    rule_rank = {r: i for i, r in enumerate(sorted(set(rules)))}
    paid, at = np.unique(pos, return_inverse=True)  # rank only the persons who have a line
    order = np.lexsort(
        (
            np.array([rule_rank[r] for r in rules], dtype=np.int64),
            text_rank(ids[paid])[at],
            text_rank(hh[paid])[at],
            np.array([program_rank[p] for p in programs], dtype=np.int64),
            months,
        )
    )
    pos, months, programs, rules = pos[order], months[order], programs[order], rules[order]
    fen = lines["amount"].to_numpy(dtype=np.int64)[order]
    month_labels = {m: month_text(int(m)) for m in np.unique(months)}
    frame = pd.DataFrame(
        {
            "发放月份": np.array([month_labels[m] for m in months], dtype=object),
            "项目": programs,
            "规则": rules,
            "户编号": hh[pos],
            "证件号码": ids[pos],
            "姓名": persons["name"].to_numpy(dtype=object)[pos],
            "乡镇": persons["town"].to_numpy(dtype=object)[pos],
            "行政村": persons["village"].to_numpy(dtype=object)[pos],
            "金额": yuan(fen),
            "依据": np.array([refs[r] for r in rules], dtype=object),
        },
        dtype=object,
    )
    frame["_fen"] = fen
    return frame


def amounts_fen(payments: pd.DataFrame) -> np.ndarray:
    if "_fen" in payments:
        return payments["_fen"].to_numpy(dtype=np.int64)
    text = payments["金额"].astype(str)
    parts = text.str.split(".", n=1, expand=True)
    return parts[0].astype(np.int64).to_numpy() * 100 + parts[1].astype(np.int64).to_numpy()
