"""One run: read → validate → evaluate → payment list and totals. No files are written here (see output.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import __version__
from .engine_vectorized import Progress, VectorizedEngine
from .errors import RejectedRowsError
from .payments import payments_frame
from .periods import Period, parse_period
from .roster import RawRoster, read_roster
from .rulebook import Rulebook, load_rulebook
from .totals import assumed_by_rule, totals_frame
from .validate import Validated, validate

ENGINES = ("pandas",)


@dataclass
class RunResult:
    period: Period
    rulebook: Rulebook
    raw: RawRoster
    validated: Validated
    lines: pd.DataFrame
    payments: pd.DataFrame
    totals: pd.DataFrame
    assumed: dict[tuple[str, str], set[str]]
    engine: str
    version: str = __version__


def evaluate_roster(
    raw: RawRoster,
    period: str | Period,
    rulebook: Rulebook | None = None,
    *,
    strict: bool = False,
    engine: str = "pandas",
    progress: Progress | None = None,
) -> RunResult:
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
    lines = VectorizedEngine(rb).run(checked.persons, per, progress)
    payments = payments_frame(lines, checked.persons, rb)
    assumed = assumed_by_rule(rb, lines)
    totals = totals_frame(payments, rb, assumed)
    return RunResult(per, rb, raw, checked, lines, payments, totals, assumed, engine)


def evaluate_file(
    path: str | Path,
    period: str,
    rules: str | Path | None = None,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    rb = load_rulebook(rules)
    rb.check_period(parse_period(period))  # refuse an uncovered period before reading a large file
    if progress:
        progress("read", 0, 1)
    raw = read_roster(path)
    return evaluate_roster(raw, period, rb, strict=strict, progress=progress)
