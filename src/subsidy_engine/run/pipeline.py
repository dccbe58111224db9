"""One run: read → validate → evaluate → payment list and totals. No files are written here (see output.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from subsidy_engine.engines.crosscheck import compare
from subsidy_engine.engines.vectorized import Progress, VectorizedEngine
from subsidy_engine.errors import CrossCheckError, RejectedRowsError
from subsidy_engine.periods import Period, parse_period
from subsidy_engine.roster.read import RawRoster, read_roster
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.payments import payments_frame
from subsidy_engine.run.result import RunResult
from subsidy_engine.run.totals import assumed_by_rule, totals_frame

if TYPE_CHECKING:
    from subsidy_engine.engines.dask.engine import DaskOptions

ENGINES = ("pandas", "rete", "dask")


def evaluate_roster(
    raw: RawRoster,
    period: str | Period,
    rulebook: Rulebook | None = None,
    *,
    strict: bool = False,
    engine: str = "pandas",
    cross_check: bool = False,
    processes: int | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Validate and evaluate a roster. engine: "pandas" (default) or "rete" (durable-rules, `processes`
    worker processes, default all cores). cross_check: run both and raise CrossCheckError if any line differs."""
    per = parse_period(period) if isinstance(period, str) else period
    rb = rulebook or load_rulebook()
    rb.check_period(per)
    if progress:
        progress("validate", 0, 1)
    checked = validate(raw)
    if strict and checked.rows_rejected:
        raise RejectedRowsError(
            f"--strict: {checked.rows_rejected} 行被拒绝({checked.households_rejected} 户),未生成发放名单",
            rejected_rows=checked.rows_rejected,
        )
    lines = run_engine(engine, rb, checked.persons, per, processes, progress)
    agreed: dict[str, object] | None = None
    if cross_check:
        other = run_engine(
            "rete" if engine == "pandas" else "pandas", rb, checked.persons, per, processes, None
        )
        pandas_lines, rete_lines = (lines, other) if engine == "pandas" else (other, lines)
        report = compare(pandas_lines, rete_lines, checked.persons, rb)
        if len(report):
            raise CrossCheckError(
                f"交叉核对失败: pandas 与 rete 两个引擎有 {len(report)} 处结果不一致,未生成发放名单",
                report=report,
            )
        agreed = {"engines": ["pandas", "rete"], "lines": len(lines), "agree": True}
    payments = payments_frame(lines, checked.persons, rb)
    assumed = assumed_by_rule(rb, lines)
    totals = totals_frame(payments, rb, assumed)
    return RunResult(per, rb, raw, checked, lines, payments, totals, assumed, engine, cross_check=agreed)


def run_engine(
    engine: str,
    rulebook: Rulebook,
    persons: pd.DataFrame,
    period: Period,
    processes: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    if engine == "rete":
        from subsidy_engine.engines.rete.engine import ReteEngine  # late: start-up, durable-rules

        return ReteEngine(rulebook, processes).run(persons, period, progress)
    if engine == "dask":
        raise ValueError(
            "the dask engine reads the roster file itself: use evaluate_file(..., engine='dask')"
        )
    if engine != "pandas":
        raise ValueError(f"unknown engine {engine!r}; one of {ENGINES}")
    return VectorizedEngine(rulebook).run(persons, period, progress)


def evaluate_file(
    path: str | Path,
    period: str,
    rules: str | Path | None = None,
    *,
    strict: bool = False,
    engine: str = "pandas",
    cross_check: bool = False,
    progress: Progress | None = None,
    dask: DaskOptions | None = None,
) -> RunResult:
    """engine "dask": the roster is read, validated and evaluated on a dask cluster (`dask` options;
    engine_dask.py), the same outputs as "pandas"."""
    rb = load_rulebook(rules)
    rb.check_period(parse_period(period))  # refuse an uncovered period before reading a large file
    if engine == "dask":
        if cross_check:
            raise ValueError("--cross-check compares the pandas and rete engines; it does not run with dask")
        from subsidy_engine.engines.dask.run import evaluate_file as evaluate_on_dask  # late: start-up, dask

        return evaluate_on_dask(path, period, rb, strict=strict, options=dask, progress=progress)
    if progress:
        progress("read", 0, 1)
    raw = read_roster(path)
    return evaluate_roster(
        raw, period, rb, strict=strict, engine=engine, cross_check=cross_check, progress=progress
    )
