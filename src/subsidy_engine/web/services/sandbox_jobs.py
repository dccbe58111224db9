"""What the sandbox's child process may be asked to do: check an uploaded roster, compare a paid list, reconcile
a bank's return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from subsidy_engine.web.services.bank import reconcile_files
from subsidy_engine.web.services.runs import diff_files
from subsidy_engine.web.services.uploads import inspect_roster

JOBS: dict[str, Callable[..., Any]] = {
    "roster": inspect_roster,
    "diff": diff_files,
    "reconcile": reconcile_files,
}


def quiet_threads() -> None:
    """Few threads in the child: each one reserves address space the memory limit counts."""
    pa.set_cpu_count(2)
    pa.set_io_thread_count(2)
