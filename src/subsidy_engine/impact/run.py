"""One impact run: read and validate the roster once, evaluate baseline and reform, compare. No files written here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from subsidy_engine.engines.vectorized import Progress
from subsidy_engine.errors import ReformError
from subsidy_engine.impact.compare import Impact, compare
from subsidy_engine.impact.evaluate import Pair, evaluate_pair
from subsidy_engine.impact.reform import Edit, apply_edits, parse_edit
from subsidy_engine.periods import Period, parse_period
from subsidy_engine.roster.read import RawRoster, read_roster
from subsidy_engine.roster.validate import Validated, validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.version import __version__


@dataclass
class ImpactRun:
    period: Period
    raw: RawRoster
    validated: Validated
    baseline: Rulebook
    reform: Rulebook
    edits: list[Edit]  # the --set edits; empty when the reform is a second rulebook
    reform_folder: Path | None  # --rules-b
    pair: Pair
    impact: Impact
    version: str = __version__


def reform_rulebook(
    baseline: Rulebook, period: Period, sets: list[str], rules_b: str | Path | None
) -> tuple[Rulebook, list[Edit]]:
    """The reform scenario: the baseline with the `--set` edits, or the second rulebook (one of the two)."""
    if bool(sets) == (rules_b is not None):
        raise ReformError("测算需要 --set 参数=金额@日期(可多个)或 --rules-b 规则库目录,二者选一")
    if rules_b is not None:
        reform = load_rulebook(rules_b)
        reform.check_period(period)
        return reform, []
    edits = [parse_edit(s) for s in sets]
    return apply_edits(baseline, edits, period), edits


def impact_roster(
    raw: RawRoster,
    period: str | Period,
    baseline: Rulebook,
    reform: Rulebook,
    edits: list[Edit] | None = None,
    reform_folder: Path | None = None,
    progress: Progress | None = None,
) -> ImpactRun:
    per = parse_period(period) if isinstance(period, str) else period
    if progress:
        progress("validate", 0, 1)
    checked = validate(raw)
    pair = evaluate_pair(checked.persons, per, baseline, reform, progress)
    result = compare(pair, checked.persons, baseline, reform)
    return ImpactRun(per, raw, checked, baseline, reform, edits or [], reform_folder, pair, result)


def impact_file(
    path: str | Path,
    period: str,
    sets: list[str] | None = None,
    *,
    rules: str | Path | None = None,
    rules_b: str | Path | None = None,
    progress: Progress | None = None,
) -> ImpactRun:
    """Everything refusable (period, rulebooks, edits) is refused before the roster is read."""
    per = parse_period(period)
    baseline = load_rulebook(rules)
    baseline.check_period(per)
    reform, edits = reform_rulebook(baseline, per, list(sets or []), rules_b)
    if progress:
        progress("read", 0, 1)
    raw = read_roster(path)
    folder = Path(rules_b) if rules_b is not None else None
    return impact_roster(raw, per, baseline, reform, edits, folder, progress)
