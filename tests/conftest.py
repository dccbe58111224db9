"""Rule cases as data: every `tests/rules/*.yaml` file is a list of named cases (OpenFisca-test style).

A case gives a period, households (household fields + members) and the expected payment lines, written as
`MONTH PROGRAM RULE NAME AMOUNT`. A failure prints `file: case 'name': message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import household_rows
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.run.pipeline import evaluate_roster

RULE_CASES = Path(__file__).parent / "rules"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent == RULE_CASES:
        return RuleCaseFile.from_parent(parent, path=file_path)
    return None


class RuleCaseFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        cases = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        for case in cases:
            yield RuleCase.from_parent(self, name=case["name"], case=case)


class CaseFailure(Exception):
    pass


def run_case(case: dict[str, Any]) -> list[str]:
    rows = household_rows(case["households"])
    result = evaluate_roster(roster_from_records(rows), str(case["period"]))
    if result.validated.rows_rejected:
        raise CaseFailure("roster rejected:\n" + result.validated.rejects.to_string())
    p = result.payments
    programs = case.get("programs")
    got = [
        f"{m} {prog} {rule} {name} {amt}"
        for m, prog, rule, name, amt in zip(
            p["发放月份"], p["项目"], p["规则"], p["姓名"], p["金额"], strict=True
        )
        if programs is None or prog in programs
    ]
    return got


class RuleCase(pytest.Item):
    def __init__(self, *, case: dict[str, Any], **kw: Any) -> None:
        super().__init__(**kw)
        self.case = case

    def runtest(self) -> None:
        got = run_case(self.case)
        want = [" ".join(str(x) for x in line.split()) for line in self.case.get("expect") or []]
        if sorted(got) != sorted(want):
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            raise CaseFailure(f"expected lines missing: {missing}; unexpected lines: {extra}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.path.name}: case '{self.name}': {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"case: {self.name}"
