"""Output cells that cannot attack their reader: no text is ever read back as a spreadsheet formula.

A CSV cell whose text starts with `=`, `+`, `-` or `@` (or with tab, CR, LF or spaces before one of them, or with
a tab or CR) is written with a leading `'`, the usual neutralisation: Excel and LibreOffice then show it as
text. A plain number (`-12.50`, `+3`) is left alone: it is a number, not a formula, and amounts never change.
A text that already starts with `'` before such a start gets one more, so reading back (`restore`, one `'`
off) always gives the text itself.
In an .xlsx every text is a string cell (openpyxl would make any text starting with `=` a formula cell), its
text unchanged; characters XML cannot hold (control characters) become U+FFFD there.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RISKY = r"^'*(?:[\t\r\n ]*[=+\-@]|[\t\r])"
PLAIN_NUMBER = r"^'*[+-]?[0-9]+(?:\.[0-9]+)?$"
_RISKY_RE = re.compile(RISKY)
_NUMBER_RE = re.compile(PLAIN_NUMBER)
_FIRST_BYTES = np.zeros(256, dtype=bool)  # the bytes a risky text can start with
_FIRST_BYTES[np.frombuffer(b"=+-@\t\r\n '", dtype=np.uint8)] = True
QUOTE = "'"
ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")  # openpyxl refuses these in a cell


def risky(text: str) -> bool:
    """Whether a spreadsheet could take this CSV text for a formula (a plain number is not)."""
    return bool(_RISKY_RE.match(text)) and not _NUMBER_RE.match(text)


def neutral(text: str) -> str:
    """The text as a CSV cell may hold it: `'` in front of a risky text, anything else unchanged."""
    return QUOTE + text if risky(text) else text


def restore(text: str) -> str:
    """Undo `neutral` when reading our own CSV back (a paid list, payments.csv to publish)."""
    return text[1:] if text.startswith(QUOTE) and risky(text) else text


def _may_be_risky(column: pa.ChunkedArray) -> bool:
    """A look at the first byte of every value: can any value start like a formula? (fast; an empty value
    shows the next value's first byte, which can only send the column to the exact check)"""
    for chunk in column.chunks:
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True  # not a plain string array: let the exact check decide
        _, offsets_buf, data_buf = chunk.buffers()
        if data_buf is None or data_buf.size == 0:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets: np.ndarray = np.frombuffer(offsets_buf, dtype=width)
        data = np.frombuffer(data_buf, dtype=np.uint8)
        starts = offsets[chunk.offset : chunk.offset + len(chunk)]
        starts = starts[: np.searchsorted(starts, len(data))]  # trailing empty values start at the end
        if _FIRST_BYTES[data[starts]].any():
            return True
    return False


def risky_mask(column: pa.ChunkedArray) -> np.ndarray | None:
    """Which values of a text column need the `'` (a bool array), or None when none does."""
    if not _may_be_risky(column):
        return None
    text = column.cast(pa.large_string()) if not pa.types.is_large_string(column.type) else column
    hit = pc.and_(
        pc.match_substring_regex(text, RISKY), pc.invert(pc.match_substring_regex(text, PLAIN_NUMBER))
    )
    mask = np.asarray(hit.fill_null(False), dtype=bool)
    return mask if mask.any() else None


def quoted(values: Any, mask: np.ndarray) -> np.ndarray:
    """The values (object array) with `'` in front of those the mask marks."""
    out = np.asarray(values, dtype=object).copy()
    out[mask] = [QUOTE + str(v) for v in out[mask]]
    return out


def xlsx_text(ws: Any, text: str) -> Any:
    """A text for an .xlsx row: unchanged when openpyxl keeps it a plain string, else a string cell."""
    if text[:1] != "=" and not ILLEGAL_XML.search(text):
        return text
    from openpyxl.cell import WriteOnlyCell  # late: start-up, openpyxl

    cell = WriteOnlyCell(ws, value=ILLEGAL_XML.sub("\ufffd", text))
    cell.data_type = "s"  # never a formula: openpyxl binds any text starting with '=' as one
    return cell


def xlsx_needs_cell(column: pa.ChunkedArray) -> bool:
    """Whether some text of a column starts with `=` or holds a character XML cannot carry."""
    text = column.cast(pa.large_string()) if not pa.types.is_large_string(column.type) else column
    hit = pc.match_substring_regex(text, r"^=|[\x00-\x08\x0b\x0c\x0e-\x1f]")
    return bool(pc.any(hit.fill_null(False)).as_py())
