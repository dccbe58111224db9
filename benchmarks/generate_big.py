"""A very large roster as one Parquet file, built and written chunk by chunk (never whole in memory).

    python benchmarks/generate_big.py N OUT.parquet [--chunk 1000000] [--row-group 200000]

Chunk k is `generate_roster.build_table(chunk, seed=k)` with its identifiers moved into a space of its own,
so that the chunks together are one valid roster: the first two digits of every 证件号码 become 50 + k (the
check character and the 残疾证号 that starts with it are redone) and every 户编号 starts with 5001 + k instead
of 5001. Everything else (places, the mix of programs) is as generate_roster.py makes it. At most 50 chunks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generate_roster import CHECK, build_table
from subsidy_engine.roster.idcard import WEIGHTS


def _matrix(arr: pa.Array, width: int) -> np.ndarray:
    """A string array whose values all have `width` ASCII characters, as an (n, width) uint8 matrix (a copy)."""
    arr = pa.array(arr.to_pylist(), pa.string()) if isinstance(arr, pa.ChunkedArray) else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, width).copy()


def _strings(mat: np.ndarray) -> pa.Array:
    n, w = mat.shape
    offsets = pa.py_buffer(np.arange(0, (n + 1) * w, w, dtype=np.int32).tobytes())
    return pa.StringArray.from_buffers(n, offsets, pa.py_buffer(np.ascontiguousarray(mat).tobytes()))


def chunk_table(n: int, k: int) -> pa.Table:
    if not 0 <= k < 50:
        raise ValueError("at most 50 chunks")
    table = build_table(n, seed=k)
    ids = _matrix(table.column("证件号码").combine_chunks(), 18)
    ids[:, 0:2] = np.frombuffer(f"{50 + k:02d}".encode(), np.uint8)
    ids[:, 17] = CHECK[((ids[:, :17].astype(np.int64) - 48) @ WEIGHTS) % 11]
    new_ids = _strings(ids)
    cert = table.column("残疾证号").combine_chunks()
    has_cert = pc.not_equal(cert, "")
    new_cert = pc.if_else(
        has_cert, pc.binary_join_element_wise(new_ids, pc.utf8_slice_codeunits(cert, 18), ""), ""
    )
    hh = _matrix(table.column("户编号").combine_chunks(), 16)
    hh[:, 0:4] = np.frombuffer(f"{5001 + k:04d}".encode(), np.uint8)
    for name, values in (("证件号码", new_ids), ("残疾证号", new_cert), ("户编号", _strings(hh))):
        table = table.set_column(table.column_names.index(name), name, values)
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of persons (rows)")
    p.add_argument("out", type=Path, help="output .parquet file")
    p.add_argument("--chunk", type=int, default=1_000_000, help="persons per generated chunk")
    p.add_argument("--row-group", type=int, default=200_000, help="rows per Parquet row group")
    a = p.parse_args(argv)
    tmp = a.out.with_suffix(".tmp")
    writer: pq.ParquetWriter | None = None
    try:
        for k, start in enumerate(range(0, a.n, a.chunk)):
            table = chunk_table(min(a.chunk, a.n - start), k)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=a.row_group)
            print(f"chunk {k}: {start + table.num_rows} rows", file=sys.stderr)
    finally:
        if writer is not None:
            writer.close()
    tmp.rename(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
