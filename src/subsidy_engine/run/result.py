"""What one run produces before anything is written: the validated roster, the lines, the payment list, totals."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from subsidy_engine.periods import Period
from subsidy_engine.roster.read import RawRoster
from subsidy_engine.roster.validate import Validated
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.version import __version__


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
    cross_check: dict[str, object] | None = None  # when both engines ran and agreed: engines and line count
