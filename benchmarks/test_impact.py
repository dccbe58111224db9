"""Cost of `subsidy impact` against one `evaluate` of the same roster, both from CSV with their files written:
a 2023 year run with the rural 低保 standard raised to 650 from 2023-07-01, at 10k, 100k and 1M persons.

`test_impact_over_evaluate` runs evaluate and impact alternately (rounds as in test_pipeline.py) and records the
fastest of each, in wall-clock and in CPU seconds (CPU is steadier on a shared machine), and their ratios in
extra_info; the impact folder is written once with only the CSV files and once with impact.xlsx as well."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import roster_file
from subsidy_engine.impact.output import write_impact
from subsidy_engine.impact.run import impact_file
from subsidy_engine.run.output import write_run
from subsidy_engine.run.pipeline import evaluate_file

PERIOD = "2023"
REFORM = ["dibao_standard[农村]=650@2023-07-01"]


def _evaluate(path: Path, out: Path) -> None:
    write_run(evaluate_file(path, PERIOD), out, overwrite=True)


def _impact(path: Path, out: Path, formats: tuple[str, ...]) -> None:
    write_impact(impact_file(path, PERIOD, REFORM), out, formats, overwrite=True)


def _timed(fn, *args) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


@pytest.mark.parametrize("formats", [("csv",), ("csv", "xlsx")], ids=["csv", "csv+xlsx"])
def test_impact_over_evaluate(benchmark, size: str, formats: tuple[str, ...], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = roster_file(size, "csv")
    rounds = 1 if size == "1M" else 5
    evaluate_times, impact_times = [], []
    for _ in range(rounds):
        evaluate_times.append(_timed(_evaluate, path, tmp_path / "evaluate"))
        impact_times.append(_timed(_impact, path, tmp_path / "impact", formats))
    benchmark.pedantic(_impact, args=(path, tmp_path / "impact", formats), rounds=1, iterations=1)
    assert (tmp_path / "impact" / "summary.csv").stat().st_size > 0
    ev_wall, ev_cpu = min(w for w, _ in evaluate_times), min(c for _, c in evaluate_times)
    im_wall, im_cpu = min(w for w, _ in impact_times), min(c for _, c in impact_times)
    benchmark.extra_info.update(
        {
            "evaluate_wall_seconds": round(ev_wall, 3),
            "impact_wall_seconds": round(im_wall, 3),
            "impact_over_evaluate_wall": round(im_wall / ev_wall, 2),
            "evaluate_cpu_seconds": round(ev_cpu, 3),
            "impact_cpu_seconds": round(im_cpu, 3),
            "impact_over_evaluate_cpu": round(im_cpu / ev_cpu, 2),
        }
    )
