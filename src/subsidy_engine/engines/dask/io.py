"""Reading a roster in chunks for the dask engine, each row with the number a spreadsheet shows (header = row 1).

A Parquet roster is read by row groups (several to a chunk) on the workers; its header is checked once, here,
with the same errors as `roster.read_roster`. A .xlsx/.csv roster is read whole by `read_roster` and cut into
in-memory chunks (fine for the sizes those formats reach). `load_chunk` gives the raw frame `validate` expects
for the chunk's rows, plus `_key`: the household (户编号 as validation reads it) or, for households tied
together by a 证件号码 that occurs in both, one shared key, so that a hash shuffle on `_key` puts every household
whole, and every copy of a duplicated 证件号码, in one partition.

The header, the cells and the blank-row rule are roster.py's own (`header_map`, `typed_cells_as_objects`,
`raw_frame`), so a chunk's frame is the one `read_roster` would give for those rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from subsidy_engine.errors import FileFormatError
from subsidy_engine.limits import current as current_limits
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.columns import Problems, parse_column
from subsidy_engine.roster.parquet_read import check_numbers, check_types, headers_of, text_from_bytes
from subsidy_engine.roster.read import ROW, header_map, raw_frame, read_roster, typed_cells_as_objects
from subsidy_engine.roster.schema import BY_ALIAS

KEY = "_key"
MOVED = "_moved"


@dataclass(frozen=True)
class Chunk:
    first_row: int  # spreadsheet row number of the chunk's first row (Parquet) — unused for in-memory chunks
    row_groups: tuple[int, ...] = ()
    start: int = 0  # a slice of one large row group: rows start..stop of it
    stop: int | None = None
    frame: pd.DataFrame | None = field(default=None, compare=False)  # an in-memory chunk (already raw)


@dataclass
class Scan:
    """Pass 1 over a chunk: hashes of its 证件号码 (non-blank) and of its households with their row counts."""

    ids: np.ndarray
    households: np.ndarray
    counts: np.ndarray


@dataclass
class Source:
    path: str
    sha256: str
    headers: dict[str, str]  # alias -> header as written (every known column, as RawRoster.headers)
    ignored: list[str]
    take: dict[int, str]  # file column index -> alias (Parquet)
    chunks: list[Chunk]
    rows: int  # rows in the file, blank ones included
    arrow_safe: bool  # every cell is text (the p2p shuffle moves Arrow tables)


def open_source(path: str | Path, chunk_rows: int = 200_000) -> Source:
    p = Path(path)
    if p.suffix.lower() != ".parquet":
        raw = read_roster(p)
        f = raw.frame
        pieces = [
            Chunk(0, frame=f.iloc[a : a + chunk_rows].reset_index(drop=True))
            for a in range(0, max(len(f), 1), chunk_rows)
        ]
        return Source(str(p), raw.sha256, raw.headers, raw.ignored_columns, {}, pieces, len(f), False)
    if not p.is_file():
        raise FileFormatError(f"{p}: 文件不存在", path=str(p))

    try:
        meta = pq.ParquetFile(p).metadata
        schema = pq.read_schema(p)
    except Exception as exc:
        raise FileFormatError(f"{p}: 无法读取为 Parquet 文件({type(exc).__name__})", path=str(p)) from None
    header = headers_of(p, schema, current_limits())
    headers, ignored, take = header_map(header, str(p))
    check_types(p, schema, take)
    chunks: list[Chunk] = []
    groups: list[int] = []
    size, first = 0, 2
    for g in range(meta.num_row_groups):
        rows = meta.row_group(g).num_rows
        if rows > chunk_rows:  # a large row group is read by slices
            if groups:
                chunks.append(Chunk(first, tuple(groups)))
                first += size
                groups, size = [], 0
            chunks += [
                Chunk(first + a, (g,), a, min(a + chunk_rows, rows)) for a in range(0, rows, chunk_rows)
            ]
            first += rows
            continue
        groups.append(g)
        size += rows
        if size >= chunk_rows:
            chunks.append(Chunk(first, tuple(groups)))
            first += size
            groups, size = [], 0
    if groups or not chunks:
        chunks.append(Chunk(first, tuple(groups)))
    safe = all(
        pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t) for t in schema.types
    )
    return Source(str(p), _sha256(p), headers, ignored, take, chunks, meta.num_rows, safe)


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        while block := f.read(1 << 24):
            h.update(block)
    return h.hexdigest()


def _cells(source: Source, chunk: Chunk, columns: list[int] | None = None) -> pd.DataFrame:
    """The chunk's cells as `parquet_read.read_parquet` gives them: columns 0..n-1, typed cells as objects."""
    pf = pq.ParquetFile(source.path)
    names = pf.schema_arrow.names
    idx = list(range(len(names))) if columns is None else columns
    if columns is not None and len(set(names)) == len(names) and chunk.row_groups:  # read only those
        table = pf.read_row_groups(list(chunk.row_groups), columns=[names[i] for i in idx])
        at = {i: k for k, i in enumerate(idx)}
    else:
        table = (
            pf.read_row_groups(list(chunk.row_groups)) if chunk.row_groups else pf.schema_arrow.empty_table()
        )
        at = {i: i for i in idx}
    if chunk.stop is not None:
        table = table.slice(chunk.start, chunk.stop - chunk.start)
    roster_columns = {at[i]: alias for i, alias in source.take.items() if i in at}  # table column → alias
    header = [str(c).strip(TRIM) for c in table.column_names]
    table = text_from_bytes(Path(source.path), table, roster_columns, header)
    check_numbers(Path(source.path), table, roster_columns, header, chunk.first_row)
    frame = pd.DataFrame({i: table.column(at[i]).to_pandas(types_mapper=None) for i in idx})
    return typed_cells_as_objects(frame)


def load_chunk(
    chunk: Chunk,
    source: Source,
    keys: dict[str, str],
    moved: np.ndarray | None = None,
    part: str | None = None,
    empty: bool = False,
) -> pd.DataFrame:
    """The raw frame of a chunk (alias columns, `_row`, blank rows dropped) with the shuffle key `_key`.

    part "local": only the households that are whole in this chunk; "moved": only the others (the hashes
    `moved` of households seen in several chunks, or None for all, and the households tied by `keys`);
    "mark": all rows, with a column `_moved` telling which (see `select`)."""
    if chunk.frame is not None:
        out = chunk.frame.iloc[:0] if empty else chunk.frame
        out = out.copy()
    else:
        cells = _cells(source, Chunk(chunk.first_row) if empty else chunk)
        numbers = np.arange(chunk.first_row, chunk.first_row + len(cells), dtype=np.int64)
        out = raw_frame(cells, source.take, numbers)
    hh = pd.Series(_normalized("household_id", out["household_id"]), dtype=object).fillna("")
    out[KEY] = (hh.map(lambda h: keys.get(h, h)) if keys else hh).astype(str)
    if part is None or (part == "moved" and moved is None):
        return out
    is_moved = np.array(hh.isin(keys), dtype=bool) if keys else np.zeros(len(out), dtype=bool)
    if moved is None:
        is_moved[:] = True
    elif len(moved):
        is_moved |= np.isin(_hash(hh.to_numpy(dtype=object)), moved)
    if part == "mark":
        out[MOVED] = is_moved
        return out
    return out.loc[is_moved if part == "moved" else ~is_moved].reset_index(drop=True)


def select(frame: pd.DataFrame, part: str) -> pd.DataFrame:
    """The "local" or "moved" rows of a chunk loaded with part="mark"."""
    keep = frame[MOVED].to_numpy(dtype=bool)
    return frame.loc[keep if part == "moved" else ~keep].drop(columns=[MOVED]).reset_index(drop=True)


def _hash(values: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(values.astype(object), categorize=False)


def _normalized(alias: str, values: pd.Series) -> np.ndarray:
    """The text validation reads for an id/text column (trimmed; 证件号码 upper-cased), None when blank."""
    return parse_column(BY_ALIAS[alias], values.reset_index(drop=True), Problems()).values


def scan(source: Source, chunk: Chunk) -> Scan:
    """Pass 1: the chunk's 证件号码 and household hashes (households: where they are whole)."""
    ids, _, hh = _ids_rows_households(source, chunk)
    households, counts = np.unique(_hash(hh), return_counts=True)
    return Scan(_hash(ids[~pd.isna(ids)]), households, counts)


def id_candidates(source: Source, chunk: Chunk, hashes: np.ndarray) -> pd.DataFrame:
    """(id, row, household) of the rows whose 证件号码 hash is among `hashes` (pass 2)."""
    ids, rows, hh = _ids_rows_households(source, chunk)
    present = np.flatnonzero(~pd.isna(ids))
    h = _hash(ids[present])
    hit = present[np.isin(h, hashes)]
    return pd.DataFrame({"id": ids[hit], "row": rows[hit], "hh": hh[hit]})


def _ids_rows_households(source: Source, chunk: Chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if chunk.frame is not None:
        f = chunk.frame
        ids_raw, hh_raw, rows = f["id_number"], f["household_id"], f[ROW].to_numpy(dtype=np.int64)
    else:
        where = {a: i for i, a in source.take.items()}
        cells = _cells(source, chunk, [where["id_number"], where["household_id"]])
        ids_raw, hh_raw = cells[where["id_number"]], cells[where["household_id"]]
        rows = np.arange(chunk.first_row, chunk.first_row + len(cells), dtype=np.int64)
    ids = _normalized("id_number", ids_raw)
    hh = pd.Series(_normalized("household_id", hh_raw), dtype=object).fillna("").to_numpy(dtype=object)
    return ids, rows, hh


def tie_households(candidates: pd.DataFrame) -> dict[str, str]:
    """Every household that shares a duplicated 证件号码 → one key for those tied (the smallest), by union-find."""
    dup = candidates[candidates["id"].duplicated(keep=False)]
    parent: dict[str, str] = {}

    def find(h: str) -> str:
        while parent.setdefault(h, h) != h:
            parent[h] = parent[parent[h]]
            h = parent[h]
        return h

    for _, group in dup.groupby("id", sort=True):
        roots = sorted({find(h) for h in group["hh"]})
        for r in roots[1:]:
            parent[r] = roots[0]
    return {h: find(h) for h in parent}


__all__ = ["KEY", "ROW", "Chunk", "Source", "load_chunk", "open_source"]
