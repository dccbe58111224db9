"""Reading a Parquet roster whole, and the checks on a Parquet file's columns that the dask reader shares.

A roster column must hold text, numbers, dates or booleans: a list, a struct, a map, a duration… is refused by
name, as is text stored as bytes that are not UTF-8 (bytes that are become text). A number that no amount or
whole number of the roster can be (beyond 64-bit integers once in fen) is refused with its row. Read whole, a
file may not exceed the row and uncompressed-size limits (`--engine dask` reads it in pieces instead).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from subsidy_engine.errors import FileFormatError
from subsidy_engine.limits import Limits, size_text
from subsidy_engine.roster.cellgrid import Cells, header_map
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.schema import BY_ALIAS

INT64_MAX = 2**63 - 1
_BOUND = {"money": INT64_MAX // 100, "int": INT64_MAX}  # fen of an amount, a whole number


def read_parquet(p: Path, raw: bytes, limits: Limits) -> Cells:
    import pyarrow.parquet as pq  # late: start-up, Parquet

    try:
        pf = pq.ParquetFile(io.BytesIO(raw))
        meta = pf.metadata
        schema = pf.schema_arrow
    except Exception as exc:
        raise FileFormatError(f"{p}: 无法读取为 Parquet 文件({type(exc).__name__})", path=str(p)) from None
    bigger = "更大的花名册请用 --engine dask 计算(分块读取)"
    if meta.num_rows > limits.rows:
        raise FileFormatError(
            f"{p}: 文件有 {meta.num_rows} 行,超过一次读入的上限 {limits.rows} 行(SUBSIDY_MAX_ROWS);{bigger}",
            path=str(p),
        )
    unpacked = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    if unpacked > limits.unzipped_bytes:
        raise FileFormatError(
            f"{p}: 解压后约 {size_text(unpacked)},超过一次读入的上限 {size_text(limits.unzipped_bytes)}"
            f"(SUBSIDY_MAX_UNZIPPED_BYTES);{bigger}",
            path=str(p),
        )
    header = headers_of(p, schema, limits)
    _, _, take = header_map(header, str(p))
    check_types(p, schema, take)
    try:
        table = pf.read()
    except Exception as exc:
        raise FileFormatError(f"{p}: 无法读取为 Parquet 文件({type(exc).__name__})", path=str(p)) from None
    table = text_from_bytes(p, table, take, header)
    check_numbers(p, table, take, header, first_row=2)
    frame = table.to_pandas(types_mapper=None)
    frame.columns = pd.Index(range(len(header)))
    return Cells(header, typed_cells_as_objects(frame), np.arange(2, len(frame) + 2))


def headers_of(p: Path, schema: pa.Schema, limits: Limits) -> list[str]:
    if len(schema.names) > limits.columns:
        raise FileFormatError(
            f"{p}: 文件有 {len(schema.names)} 列,超过上限 {limits.columns} 列(SUBSIDY_MAX_COLUMNS)",
            path=str(p),
        )
    return [str(c).strip(TRIM) for c in schema.names]


def _readable(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _readable(t.value_type)
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_null(t)
        or pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_date(t)
        or pa.types.is_timestamp(t)
    )


def check_types(p: Path, schema: pa.Schema, take: dict[int, str]) -> None:
    """Every roster column holds text, numbers, dates or booleans."""
    for i, alias in take.items():
        t = schema.field(i).type
        if not _readable(t):
            shown = str(t) if len(str(t)) <= 60 else str(t)[:60] + "…"
            name = BY_ALIAS[alias].name
            label = name if schema.names[i].strip(TRIM) == name else f"{schema.names[i][:40]!r}({name})"
            raise FileFormatError(
                f"{p}: 列 {label} 的类型是 {shown},花名册的列只能是文本、数字、日期或是/否",
                path=str(p),
            )


def text_from_bytes(p: Path, table: pa.Table, take: dict[int, str], header: list[str]) -> pa.Table:
    """Roster columns stored as bytes, read as UTF-8 text."""
    for i in take:
        col = table.column(i)
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            try:
                text = pc.cast(col, pa.large_string())
            except pa.ArrowInvalid:
                raise FileFormatError(
                    f"{p}: 列 {header[i][:40]} 存的是字节,不是 UTF-8 文本", path=str(p)
                ) from None
            table = table.set_column(i, table.schema.field(i).name, text)
    return table


def check_numbers(p: Path, table: pa.Table, take: dict[int, str], header: list[str], first_row: int) -> None:
    """No number in an amount or whole-number column that 64-bit integers cannot hold (in fen for amounts)."""
    for i, alias in take.items():
        bound = _BOUND.get(BY_ALIAS[alias].kind)
        col = table.column(i)
        t = col.type
        if bound is None or len(col) == 0:
            continue
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            size = pc.abs(
                pc.cast(col, pa.float64(), safe=False)
            )  # a float is enough to tell 9.2e16 from 1e17
            over = pc.and_kleene(pc.is_finite(size), pc.greater(size, float(bound)))
        elif pa.types.is_decimal(t):
            if t.precision - t.scale <= 16:
                continue
            values = col.to_pylist()
            over = pa.array([v is not None and v.is_finite() and abs(v) > Decimal(bound) for v in values])
        else:
            continue
        if pc.any(over).as_py():
            at = pc.index(over, True).as_py()
            raise FileFormatError(
                f"{p}: 第 {first_row + at} 行 {header[i][:40]}的数值 {col[at].as_py()} 超出可计算的范围,"
                "不是有效的金额或整数",
                path=str(p),
            )


def typed_cells_as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet columns that are not text (numbers, dates, booleans) as Python objects, None for a missing
    cell: validation parses such typed cells one by one, as it does a spreadsheet's."""
    for c in frame.columns:
        if frame[c].dtype != object and not isinstance(frame[c].dtype, pd.StringDtype):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame
