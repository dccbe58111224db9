"""Small array helpers shared by validation, payments, totals and output: pyarrow strings behind pandas columns,
and integer grouping by hash table (numpy 2's np.unique hashes too, but several times slower on large inputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_of(series: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow strings behind a pandas `str` column (zero-copy), or None for any other column."""
    if isinstance(series.dtype, pd.StringDtype) and hasattr(series.array, "__arrow_array__"):
        arr = series.array.__arrow_array__()
        return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return None


def arrow_codes(arr: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """pyarrow's hash kernel: (integer code per row, -1 for a missing value; the distinct values, in arrow)."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], type=arr.type)
    encoded = pc.dictionary_encode(arr.combine_chunks())  # one array, one dictionary
    return pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64, copy=False), encoded.dictionary


def text_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, the distinct texts as objects): pyarrow's hash for a `str` column, pandas'
    otherwise. A missing value gets -1."""
    arr = arrow_of(series)
    if arr is None:
        codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)
    codes, dictionary = arrow_codes(arr)
    return codes, dictionary.to_numpy(zero_copy_only=False).astype(object, copy=False)


def sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for integers: pandas' hash table, then a sort of the uniques."""
    codes, uniques = pd.factorize(values)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.asarray(uniques)[order], rank[codes]


def count_distinct(values: np.ndarray) -> int:
    return len(pd.unique(values))
