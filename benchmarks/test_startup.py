"""Start-up cost of the CLI, each round a fresh process: `subsidy --help` and `subsidy evaluate` of a 10-row
roster (the import of the CLI and its libraries is most of it). `make bench`; report.py shows both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import DATA
from generate_roster import build_table, write

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _cli(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "subsidy_engine.cli.main", *args], check=True, env=ENV, capture_output=True
    )


def test_startup_help(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark.pedantic(_cli, args=("--help",), rounds=5, iterations=1)


def test_startup_evaluate_10_rows(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    DATA.mkdir(exist_ok=True)
    roster = DATA / "roster-10.csv"
    if not roster.exists():
        write(build_table(10, seed=0), roster)
    out = tmp_path / "out"
    args = ("evaluate", str(roster), "--period", "2023", "--out", str(out), "--overwrite")
    benchmark.pedantic(_cli, args=args, rounds=5, iterations=1)
    assert (out / "payments.csv").exists()
