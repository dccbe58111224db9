"""Payment lines → the payment list of SPEC §5: columns, text sort order, amounts with exactly two decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cells import month_text
from .rulebook import Rulebook

PAYMENT_COLUMNS = ["发放月份", "项目", "规则", "户编号", "证件号码", "姓名", "乡镇", "行政村", "金额", "依据"]
SORT_KEY = ["发放月份", "项目", "户编号", "证件号码", "规则"]


def yuan(fen: np.ndarray | pd.Series) -> np.ndarray:
    """Integer fen → '123.45' (exactly two decimals, no float on the way)."""
    f = np.asarray(fen, dtype=np.int64)
    if len(f) == 0:
        return np.array([], dtype=object)
    whole = (f // 100).astype(str).astype(object)
    cents = np.char.zfill((f % 100).astype(str), 2).astype(object)
    return whole + "." + cents


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def payments_frame(lines: pd.DataFrame, persons: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The payment list, sorted by 发放月份, 项目, 户编号, 证件号码, 规则 compared as text."""
    refs = {r.id: r.reference for p in rulebook.programs for r in p.rules}
    pos = lines["pos"].to_numpy(dtype=np.int64)
    months = lines["month"].to_numpy(dtype=np.int64)
    month_labels = {m: month_text(int(m)) for m in np.unique(months)}
    frame = pd.DataFrame({
        "发放月份": np.array([month_labels[m] for m in months], dtype=object),
        "项目": lines["program"].to_numpy(dtype=object),
        "规则": lines["rule"].to_numpy(dtype=object),
        "户编号": persons["household_id"].to_numpy(dtype=object)[pos],
        "证件号码": persons["id_number"].to_numpy(dtype=object)[pos],
        "姓名": persons["name"].to_numpy(dtype=object)[pos],
        "乡镇": persons["town"].to_numpy(dtype=object)[pos],
        "行政村": persons["village"].to_numpy(dtype=object)[pos],
        "金额": yuan(lines["amount"].to_numpy(dtype=np.int64)),
        "依据": lines["rule"].map(refs).to_numpy(dtype=object),
    })
    frame["_fen"] = lines["amount"].to_numpy(dtype=np.int64)
    frame = frame.sort_values(SORT_KEY, kind="stable").reset_index(drop=True)
    return frame


def amounts_fen(payments: pd.DataFrame) -> np.ndarray:
    if "_fen" in payments:
        return payments["_fen"].to_numpy(dtype=np.int64)
    text = payments["金额"].astype(str)
    parts = text.str.split(".", n=1, expand=True)
    return parts[0].astype(np.int64).to_numpy() * 100 + parts[1].astype(np.int64).to_numpy()
