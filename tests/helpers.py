"""Building small rosters for tests: valid 证件号码 from a birth date, households from a few fields."""

from __future__ import annotations

from click.testing import CliRunner

from subsidy_engine.cli.main import main
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.run.cases import RuleCase, household_rows, make_id
from subsidy_engine.run.pipeline import evaluate_roster

__all__ = ["CaseFailure", "check_case", "household_rows", "make_id", "run", "run_case"]


def run(*args: str) -> tuple[int, str, str]:
    """The `subsidy` command as a caseworker runs it: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


class CaseFailure(Exception):
    pass


def run_case(case: RuleCase, engine: str = "pandas") -> list[str]:
    """The payment lines of a case's roster and period (of the programs it checks), as `expect` writes them."""
    rows = household_rows(case.households)
    result = evaluate_roster(roster_from_records(rows), case.period, engine=engine, processes=1)
    if result.validated.rows_rejected:
        raise CaseFailure("roster rejected:\n" + result.validated.rejects.to_string())
    p = result.payments
    return [
        f"{m} {prog} {rule} {name} {amt}"
        for m, prog, rule, name, amt in zip(
            p["发放月份"], p["项目"], p["规则"], p["姓名"], p["金额"], strict=True
        )
        if case.programs is None or prog in case.programs
    ]


def check_case(case: RuleCase, engine: str = "pandas") -> None:
    got = run_case(case, engine)
    if sorted(got) != sorted(case.expect):
        missing = sorted(set(case.expect) - set(got))
        extra = sorted(set(got) - set(case.expect))
        raise CaseFailure(f"expected lines missing: {missing}; unexpected lines: {extra}")
