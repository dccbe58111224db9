"""Speed of each stage of a 2023 year run (read, validate, evaluate, payments+totals, write) and end to end,
at 10k, 100k and 1M persons, and the floor: reading the file and writing payments.csv.
`make bench`; results in benchmarks/results/latest.json, table by `python benchmarks/report.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import roster_file
from subsidy_engine.engines.vectorized import VectorizedEngine
from subsidy_engine.periods import parse_period
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.output import write_csv, write_run
from subsidy_engine.run.payments import PAYMENT_COLUMNS, payments_frame
from subsidy_engine.run.pipeline import evaluate_file, evaluate_roster
from subsidy_engine.run.totals import assumed_by_rule, totals_frame

PERIOD = parse_period("2023")
RULES = load_rulebook()


def _once(benchmark, size, fn, *args):  # type: ignore[no-untyped-def]
    """A 1M roster runs once (minutes matter more than noise there); a 10k one five times."""
    return benchmark.pedantic(fn, args=args, rounds=1 if size == "1M" else 5, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_read(benchmark, size: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    raw = _once(benchmark, size, read_roster, roster_file(size, fmt))
    assert raw.rows_read > 0


def test_validate(benchmark, size: str) -> None:  # type: ignore[no-untyped-def]
    raw = read_roster(roster_file(size, "parquet"))
    v = _once(benchmark, size, validate, raw)
    assert v.rows_accepted + v.rows_rejected == v.rows_read


def test_evaluate(benchmark, size: str) -> None:  # type: ignore[no-untyped-def]
    persons = validate(read_roster(roster_file(size, "parquet"))).persons
    lines = _once(benchmark, size, VectorizedEngine(RULES).run, persons, PERIOD)
    assert len(lines) > 0


def test_payments_and_totals(benchmark, size: str) -> None:  # type: ignore[no-untyped-def]
    persons = validate(read_roster(roster_file(size, "parquet"))).persons
    lines = VectorizedEngine(RULES).run(persons, PERIOD)

    def build():  # type: ignore[no-untyped-def]
        payments = payments_frame(lines, persons, RULES)
        return totals_frame(payments, RULES, assumed_by_rule(RULES, lines))

    assert len(_once(benchmark, size, build)) > 0


def test_write_payments(benchmark, size: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Only payments.csv: with reading the file, the floor a run cannot go below."""
    result = evaluate_roster(read_roster(roster_file(size, "parquet")), PERIOD, RULES)
    _once(benchmark, size, write_csv, result.payments[PAYMENT_COLUMNS], tmp_path / "payments.csv")
    assert (tmp_path / "payments.csv").stat().st_size > 0


def test_write(benchmark, size: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = evaluate_roster(read_roster(roster_file(size, "parquet")), PERIOD, RULES)
    _once(benchmark, size, lambda: write_run(result, tmp_path / "out", overwrite=True))
    assert (tmp_path / "out" / "payments.csv").stat().st_size > 0


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_end_to_end(benchmark, size: str, fmt: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = roster_file(size, fmt)

    def run():  # type: ignore[no-untyped-def]
        write_run(evaluate_file(path, "2023"), tmp_path / "out", overwrite=True)

    _once(benchmark, size, run)
    assert (tmp_path / "out" / "manifest.json").exists()
