"""CSV for a person who double-clicks it in Excel: a UTF-8 BOM, CRLF, long digit IDs kept as text.

The plain UTF-8 CSV of a run folder (output.write_csv) stays the machine format; this one is made from the same
frame for download only. Excel opens a BOM-less UTF-8 file as GBK (garbled Chinese) and turns an 18-digit
证件号码 or 16-digit 户编号 into `5.00119E+17`; a tab in front of a digits-only ID keeps it text (the tab is
not shown, and a digit after it is never read as a formula). Every other text is neutralised as in every CSV
(safecells.neutral).
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from subsidy_engine.run import safecells

BOM = "\ufeff"
ID_COLUMNS = ("证件号码", "户编号", "银行账号", "账号")


def _as_text(value: str, is_id: bool) -> str:
    if is_id and value[:1].isdigit() and value.rstrip("Xx").isdigit() and len(value) >= 11:
        return "\t" + value
    return safecells.neutral(value)


def excel_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame (text cells as they are meant to be read) as Excel-ready CSV bytes."""
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.writer(buf, lineterminator="\r\n")
    cols = [str(c) for c in frame.columns]
    w.writerow(cols)
    ids = [c in ID_COLUMNS for c in cols]
    for row in frame.itertuples(index=False, name=None):
        w.writerow(["" if v is None else _as_text(str(v), i) for v, i in zip(row, ids, strict=True)])
    return buf.getvalue().encode("utf-8")


def read_machine_csv(data: bytes) -> pd.DataFrame:
    """A CSV written by output.write_csv, back as the texts it holds (the `'` of neutralised cells removed)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    for c in frame.columns:
        frame[c] = [safecells.restore(v) for v in frame[c]]
    return frame
