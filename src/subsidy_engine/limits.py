"""The limits on what a roster file may ask of one machine, read from SUBSIDY_MAX_* environment variables.

One table of settings: file sizes, rows, columns, cells, decompressed bytes, quoted lines, and the largest money
cell.

Every reader checks these before it allocates anything that grows with them, so that a clumsy or hostile file is
refused with one message instead of exhausting memory. The CLI and the web app read the same values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from subsidy_engine.errors import InputError
from subsidy_engine.money import fen

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    input_bytes: int = (
        256 * MIB
    )  # a .csv or .xlsx file, as stored (Parquet is read in pieces by --engine dask)
    rows: int = 2_000_000  # lines of a CSV, rows of a sheet, rows of a Parquet file read whole
    columns: int = 500  # header cells of a CSV, used columns of a sheet, columns of a Parquet file
    cells: int = 10_000_000  # rows × columns of a sheet's used range (a spreadsheet reader fills it densely)
    cell_chars: int = 131_072  # characters in one cell (Excel holds at most 32,767)
    unzipped_bytes: int = 512 * MIB  # everything inside an .xlsx, decompressed; Parquet data uncompressed
    zip_ratio: int = 200  # decompressed ÷ compressed size of one part of an .xlsx (real sheets: 5 to 50)
    quoted_lines: int = 20  # line breaks inside one quoted CSV cell
    amount_yuan: int = 10**8  # one money cell, in whole yuan: above it the cell is a reject, never a total


HIGHEST_AMOUNT_YUAN = 10**15  # a cell in fen, and the sum of a million of them, stays far inside int64


ENV_NAMES = {f.name: "SUBSIDY_MAX_" + f.name.upper() for f in fields(Limits)}


def current() -> Limits:
    """The limits in force: each SUBSIDY_MAX_<NAME> that is set (a positive whole number; `_` allowed as a
    thousands separator, a `K`/`M`/`G` suffix) overrides its default. A malformed value refuses the input (exit 3)."""
    values: dict[str, int] = {}
    for name, env in ENV_NAMES.items():
        text = os.environ.get(env, "").strip()
        if text:
            values[name] = _parse(env, text)
    return Limits(**values)


def max_amount_fen() -> int:
    """The money-cell ceiling in fen (SUBSIDY_MAX_AMOUNT_YUAN, at most 10^15 yuan)."""
    yuan = current().amount_yuan
    if yuan > HIGHEST_AMOUNT_YUAN:
        raise InputError(
            f"设置有误:环境变量 {ENV_NAMES['amount_yuan']}={yuan} 超过 {HIGHEST_AMOUNT_YUAN}(元)"
        )
    return fen(yuan)


def _parse(env: str, text: str) -> int:
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    digits = (text[:-1] if scale > 1 else text).replace("_", "")
    if not digits.isdigit() or not digits.isascii() or len(digits) > 18 or int(digits) <= 0:
        raise InputError(f"设置有误:环境变量 {env}={text!r} 应为正整数(可带 K/M/G 后缀)")
    return int(digits) * scale


def size_text(n: int) -> str:
    """A byte count as a person reads it: 300 MB, 1.5 GB, 12 KB."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 and value != int(value) else f"{round(value)} {unit}"
    return f"{n} 字节"
