"""Speed of `--engine dask` end to end (read, duplicate search, household shuffle, validate + evaluate per
partition, payments and totals gathered, files written) on the 10k, 100k and 1M Parquet rosters, 2023, on a
LocalCluster of 1 and of 2 worker processes started once per worker count (its start-up is not measured).
The 10M out-of-core figures come from `python benchmarks/dask_10m.py` (see README)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import roster_file
from subsidy_engine.engines.dask.engine import DaskOptions
from subsidy_engine.engines.dask.run import evaluate_file
from subsidy_engine.periods import parse_period
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.output import write_run

PERIOD = parse_period("2023")
RULES = load_rulebook()


@pytest.fixture(scope="module", params=[1, 2], ids=["1worker", "2workers"])
def scheduler(request: pytest.FixtureRequest) -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=request.param,
        threads_per_worker=1,
        processes=True,
        memory_limit="3GB",
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


def test_dask_end_to_end(benchmark, scheduler: str, size: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = roster_file(size, "parquet")
    options = DaskOptions(scheduler=scheduler)

    def run():  # type: ignore[no-untyped-def]
        write_run(evaluate_file(path, PERIOD, RULES, options=options), tmp_path / "out", overwrite=True)

    rounds = 1 if size == "1M" else 3
    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=0)
    assert (tmp_path / "out" / "manifest.json").exists()
