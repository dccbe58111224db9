"""One exception tree for the whole engine; edges (cli.py, web) turn these into exit codes and messages.

    SubsidyError                    anything the engine refuses to do, with a one-line message for a person
    ├── InputError                  a roster file that cannot be read at all (no rows are judged)
    │   ├── FileFormatError         not a spreadsheet/CSV/Parquet, unreadable encoding, no header row
    │   └── HeaderError             a required column missing, or one column named twice
    ├── RejectedRowsError           --strict and at least one row rejected (nothing written)
    ├── RulebookError               a rule file refused at load time (file, key, line, suggestion)
    │   ├── PeriodNotCoveredError   a parameter has no value in force for the requested period
    │   └── ReformError             `impact --set`: an unknown parameter or key, a date outside the period, not money
    ├── PeriodError                 a period that is not `YYYY` or `YYYY-MM`
    ├── EvaluationError             a rule produced an impossible result (e.g. a negative amount)
    ├── CrossCheckError             --cross-check: the pandas and rete engines disagree on some line
    └── OutputError                 the output folder cannot be written

The core never prints and never exits; every error carries structured fields next to its message.
"""

from __future__ import annotations

from typing import Any


class SubsidyError(Exception):
    """Base class: `str(err)` is the one line shown to a caseworker."""


class InputError(SubsidyError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class FileFormatError(InputError):
    pass


class HeaderError(InputError):
    def __init__(self, message: str, *, path: str | None = None, columns: tuple[str, ...] = ()) -> None:
        super().__init__(message, path=path)
        self.columns = columns


class RejectedRowsError(SubsidyError):
    def __init__(self, message: str, *, rejected_rows: int) -> None:
        super().__init__(message)
        self.rejected_rows = rejected_rows


class RulebookError(SubsidyError):
    def __init__(
        self, message: str, *, file: str | None = None, key: str | None = None, line: int | None = None
    ) -> None:
        where = file or ""
        if line is not None:
            where += f":{line}"
        if key:
            where += f" [{key}]"
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.key = key
        self.line = line
        self.reason = message


class PeriodNotCoveredError(RulebookError):
    pass


class ReformError(RulebookError):
    """A `--set NAME[KEY]=VALUE@DATE` edit refused (exit code and web status as for a refused rulebook)."""


class PeriodError(SubsidyError):
    pass


class EvaluationError(SubsidyError):
    pass


class CrossCheckError(SubsidyError):
    """The two engines gave different lines; `report` (a DataFrame, see crosscheck.py) lists each difference."""

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


class OutputError(SubsidyError):
    pass
