"""Short and long rows of a CSV read by pyarrow: where they are, and put back in their place without a copy.

pyarrow skips a row of another width (when told to); in a file without quotes every line is one record, so the
skipped rows are the non-empty lines whose comma count is not the header's. They are found with numpy, read by
the csv module like the careful path reads them, and set between slices of pyarrow's columns (one chunked
array per column: no string of the other rows is copied). A file with quotes or CR-only line ends does not
come here.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyarrow as pa

from subsidy_engine.roster.cellgrid import EXTRA, PROBLEMS, Cells, frame_from_rows, short_row_marks

BLOCK_BYTES = 1 << 24  # bytes looked at once: bounds the temporary arrays


def simple_lines(data: bytes) -> bool:
    """One record per line: no quote, no CR but in CRLF."""
    return b'"' not in data and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"))


def odd_lines(data: bytes, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(line indexes, starts, ends, number of lines): the non-empty lines (0 = the header) whose comma count is
    not width - 1, each with where it starts and ends (before its line break). Read in blocks of whole lines."""
    buf = np.frombuffer(data, dtype=np.uint8)
    found, at, to = [], [], []
    pos = line = 0
    while pos < len(data):
        stop = data.find(b"\n", min(pos + BLOCK_BYTES, len(data)) - 1)
        stop = len(data) if stop < 0 else stop + 1
        block = buf[pos:stop]
        ends = np.flatnonzero(block == 10)
        if block[-1] != 10:
            ends = np.append(ends, len(block))
        starts = np.r_[0, ends[:-1] + 1]
        # counted modulo 256 (a byte is four times faster to add up): a line with 256 more commas than the
        # header is missed, and then the lines found are fewer than the rows skipped: the careful path
        commas = np.add.reduceat(block == 44, starts, dtype=np.uint8)
        length = ends - starts
        empty = (length == 0) | ((length == 1) & (block[np.minimum(starts, len(block) - 1)] == 13))
        odd = np.flatnonzero((commas != (width - 1) % 256) & ~empty)
        found.append(line + odd)
        at.append(pos + starts[odd])
        to.append(pos + ends[odd])
        line += len(starts)
        pos = stop
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    return np.concatenate(found), np.concatenate(at), np.concatenate(to), line


def with_odd_rows(
    table: pa.Table, header: list[str], data: bytes, skipped: int
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The frame of the whole file (pyarrow's rows and the `skipped` rows it left out, each in its place) and
    the row numbers, or None when the lines found are not the rows pyarrow skipped."""
    lines, starts, ends, n_lines = odd_lines(data, len(header))
    starts, ends = starts[lines > 0], ends[lines > 0]
    lines = lines[lines > 0]
    if len(lines) != skipped or table.num_rows + skipped != n_lines - 1:
        return None
    texts = [data[a:b].decode("utf-8") for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    try:
        records = [next(csv.reader([t]), []) for t in texts]
    except csv.Error:  # a cell over the limit: the careful path names it
        return None
    odd = frame_from_rows(header, records, short_row_marks(header, records))
    plan = _plan([len(c) for c in table.column(0).chunks], (lines - 1 - np.arange(len(lines))).tolist())
    frame: dict[object, pd.Series] = {}
    for i in range(len(header)):
        col = table.column(i)
        chunks = col.chunks
        if [len(c) for c in chunks] != [len(c) for c in table.column(0).chunks]:
            chunks = [col.combine_chunks()]  # not seen from pyarrow's reader: every column is cut alike
            plan_i = _plan([len(col)], (lines - 1 - np.arange(len(lines))).tolist())
        else:
            plan_i = plan
        cells = pa.array(odd[i].tolist(), type=col.type)
        parts = [chunks[c].slice(a, n) if c >= 0 else cells.slice(a, 1) for c, a, n in plan_i]
        frame[i] = pa.chunked_array(parts, type=col.type).to_pandas()
    for extra in (EXTRA, PROBLEMS):
        if extra in odd:
            values = np.full(n_lines - 1, None, dtype=object)
            values[lines - 1] = odd[extra].to_numpy(dtype=object)
            frame[extra] = pd.Series(values, dtype=object)
    return pd.DataFrame(frame, copy=False), np.arange(2, n_lines + 1)


def cells_with_odd_rows(table: pa.Table, header: list[str], data: bytes, skipped: int) -> Cells | None:
    got = with_odd_rows(table, header, data, skipped)
    return None if got is None else Cells(header, got[0], got[1])


def _plan(lengths: list[int], before: list[int]) -> list[tuple[int, int, int]]:
    """How to lay out one column: (chunk, offset, length) slices of pyarrow's chunks, and (-1, j, 1) for the
    j-th odd row, which comes after `before[j]` of pyarrow's rows."""
    plan: list[tuple[int, int, int]] = []
    chunk, offset, done = 0, 0, 0  # done: pyarrow rows laid out so far
    for j, upto in enumerate([*before, sum(lengths)]):
        while done < upto:
            n = min(lengths[chunk] - offset, upto - done)
            plan.append((chunk, offset, n))
            done, offset = done + n, offset + n
            if offset == lengths[chunk]:
                chunk, offset = chunk + 1, 0
        if j < len(before):
            plan.append((-1, j, 1))
    return plan
