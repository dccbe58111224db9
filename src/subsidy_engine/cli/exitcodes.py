"""Errors become exit codes here, and only here: the one table both command modules (cli.py, cli_audit.py) use.

0 done; 1 rows rejected / rerun outputs differ / diff found differences / audit has findings; 2 wrong usage
(click); 3 a file cannot be read (roster, manifest, payment list, a folder that is not a run); 4 the rulebook or
the period is refused; 5 an output cannot be written; 6 a rule produced an impossible result; 7 `evaluate
--cross-check`: the two engines disagree; 70 an internal error (a bug: one line naming the exception type only,
never 1, which means "rows rejected"; `SUBSIDY_DEBUG=1` shows the traceback instead).
"""

from __future__ import annotations

import errno
import os
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
INTERNAL_ERROR = 70  # EX_SOFTWARE of sysexits.h


def internal_error(exc: BaseException) -> None:
    """The last resort: an unexpected exception becomes one line (its type only: its text could hold roster
    data or an ID number) and exit 70. With SUBSIDY_DEBUG=1 it is raised again, traceback and all."""
    if os.environ.get("SUBSIDY_DEBUG") == "1":
        raise exc
    click.echo(f"内部错误({type(exc).__name__}),请报告:这是本程序的问题,不是名册或规则的问题", err=True)
    sys.exit(INTERNAL_ERROR)


def fail(e: SubsidyError) -> None:
    """One line on stderr (`错误: …`) and the exit code of the error's class."""
    click.echo(f"错误: {e}", err=True)
    sys.exit(next((c for cls, c in EXIT_CODES if isinstance(e, cls)), INTERNAL_ERROR))


def edge(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A command whose SubsidyError becomes one line on stderr (`错误: …`) and its exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SubsidyError as e:
            fail(e)

    return wrapper


class GuardedGroup(click.Group):
    """The top command group: whatever a command lets through becomes an exit code, never a traceback and
    never exit 1 (click's own usage errors, exits and a closed pipe pass to click unchanged)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except SubsidyError as e:
            fail(e)
        except OSError as e:
            if e.errno == errno.EPIPE:
                raise
            internal_error(e)
        except Exception as e:
            internal_error(e)
