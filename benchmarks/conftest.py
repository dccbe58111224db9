"""Benchmark rosters: generated once per size into benchmarks/data/ (git-ignored), deterministic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate_roster import generate  # noqa: E402

DATA = HERE / "data"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}


def roster_file(label: str, suffix: str) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"roster-{label}.{suffix}"
    if not path.exists():
        frame = generate(SIZES[label], seed=0)
        tmp = path.with_suffix(".tmp")
        if suffix == "csv":
            frame.to_csv(tmp, index=False, lineterminator="\n")
        else:
            frame.to_parquet(tmp, index=False)
        tmp.rename(path)
    return path


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)
