"""Errors become exit codes here, and only here: the one table both command modules (cli.py, cli_audit.py) use.

0 done; 1 rows rejected / rerun outputs differ / diff found differences; 2 wrong usage (click); 3 a file cannot
be read (roster, manifest, payment list); 4 the rulebook or the period is refused; 5 an output cannot be
written; 6 a rule produced an impossible result; 7 `evaluate --cross-check`: the two engines disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from subsidy_engine.errors import (
    CrossCheckError,
    EvaluationError,
    InputError,
    OutputError,
    PeriodError,
    RejectedRowsError,
    RulebookError,
    SubsidyError,
)

EXIT_CODES: list[tuple[type[SubsidyError], int]] = [
    (RejectedRowsError, 1),
    (InputError, 3),
    (RulebookError, 4),
    (PeriodError, 4),
    (OutputError, 5),
    (EvaluationError, 6),
    (CrossCheckError, 7),
]


def edge(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A command whose SubsidyError becomes one line on stderr (`错误: …`) and its exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SubsidyError as e:
            click.echo(f"错误: {e}", err=True)
            sys.exit(next((c for cls, c in EXIT_CODES if isinstance(e, cls)), 1))

    return wrapper
