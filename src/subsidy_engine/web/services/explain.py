"""Explaining a person or a household of a recorded run (the explain page and the API share it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from subsidy_engine.engines.explain import Explainer
from subsidy_engine.engines.explain import select as pick
from subsidy_engine.errors import SubsidyError
from subsidy_engine.periods import parse_period
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.web.masking import scrub_paths
from subsidy_engine.web.models import Run, Upload


class NotInRoster(SubsidyError):
    """The number or household asked is not among the roster's valid rows."""


def explain_report(data_dir: Path, upload: Upload, run: Run, person: str, household: str) -> dict[str, Any]:
    """The explain report (engines/explain.py) of `person` or `household` in the run's roster and period."""
    roster = data_dir / upload.path
    try:
        persons = validate(read_roster(roster)).persons
        members, asked = pick(persons, person=person or None, household=household or None)
        if len(members) == 0:
            what = "该证件号码" if person else f"户编号 {household}"
            raise NotInRoster(f"名册的有效行中没有{what}(不存在或所在户被拒绝)")
        report: dict[str, Any] = Explainer(load_rulebook()).explain(members, parse_period(run.period), asked)
    except NotInRoster:
        raise
    except SubsidyError as exc:
        raise SubsidyError(scrub_paths(str(exc), {roster: upload.original_name})) from None
    return report
