"""Rule cases as data: every `tests/rules/*.yaml` file is a list of named cases (OpenFisca-test style).

A case gives a period, households (household fields + members) and the expected payment lines, written as
`MONTH PROGRAM RULE NAME AMOUNT` (format: subsidy_engine/rulecases.py). A failure prints
`file: case 'name': message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import CaseFailure, check_case
from subsidy_engine.run.cases import RuleCase, read_cases

RULE_CASES = Path(__file__).parent / "rules"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent == RULE_CASES:
        return RuleCaseFile.from_parent(parent, path=file_path)
    return None


class RuleCaseFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        for case in read_cases(self.path):
            yield RuleCaseItem.from_parent(self, name=case.name, case=case)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, case: RuleCase, **kw: Any) -> None:
        super().__init__(**kw)
        self.case = case

    def runtest(self) -> None:
        check_case(self.case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.path.name}: case '{self.name}': {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"case: {self.name}"
