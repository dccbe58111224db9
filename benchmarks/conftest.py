"""Benchmark rosters: generated once per size into benchmarks/data/ (git-ignored), deterministic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate_roster import generate  # noqa: E402
from realistic_roster import realistic_table, write_realistic  # noqa: E402

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


def realistic_file(label: str, suffix: str, clean: bool = False) -> Path:
    """The realistic roster of this size (1 % bad rows of every kind, blank lines, split households, spelling
    variants: realistic_roster.py), or with clean=True its twin: the same persons, no bad row, no blank line."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"roster-{label}-{'twin' if clean else 'realistic'}.{suffix}"
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp" + path.suffix)
        table, short, long = realistic_table(SIZES[label], seed=0, bad_fraction=0.0 if clean else 0.01)
        write_realistic(table, short, long, tmp, blank_lines=not clean)
        tmp.rename(path)
    return path


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)
