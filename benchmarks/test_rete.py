"""Speed of the rete engine (durable-rules) on the 10k and 100k rosters, 2023: persons per second with 1 and 2 worker
processes, and the total cost of `--cross-check` (both engines + the comparison) against the pandas run alone.
`make bench`; persons/second is in each result's extra_info."""

from __future__ import annotations

import time

import pytest

from conftest import roster_file
from subsidy_engine.engines.rete.engine import ReteEngine
from subsidy_engine.periods import parse_period
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.pipeline import evaluate_roster

PERIOD = parse_period("2023")
RULES = load_rulebook()


RETE_SIZES = ["10k", "100k"]


@pytest.mark.parametrize("label", RETE_SIZES)
@pytest.mark.parametrize("processes", [1, 2])
def test_rete_persons_per_second(benchmark, processes: int, label: str) -> None:  # type: ignore[no-untyped-def]
    persons = validate(read_roster(roster_file(label, "parquet"))).persons
    engine = ReteEngine(RULES, processes=processes)
    lines = benchmark.pedantic(engine.run, args=(persons, PERIOD), rounds=1, iterations=1, warmup_rounds=0)
    assert len(lines) > 0
    benchmark.extra_info["persons"] = len(persons)
    benchmark.extra_info["persons_per_second"] = round(len(persons) / benchmark.stats.stats.min)


@pytest.mark.parametrize("label", RETE_SIZES)
def test_cross_check_total_cost(benchmark, label: str) -> None:  # type: ignore[no-untyped-def]
    raw = read_roster(roster_file(label, "parquet"))
    start = time.perf_counter()
    evaluate_roster(raw, PERIOD, RULES)
    pandas_only = time.perf_counter() - start
    result = benchmark.pedantic(
        evaluate_roster, args=(raw, PERIOD, RULES), kwargs={"cross_check": True}, rounds=1, iterations=1
    )
    assert len(result.payments) > 0
    benchmark.extra_info["pandas_only_seconds"] = round(pandas_only, 3)
    benchmark.extra_info["cross_check_over_pandas"] = round(benchmark.stats.stats.min / pandas_only, 1)
