"""subsidy-engine: poverty-relief subsidy eligibility from a household roster and declarative rule files.

The public names are loaded on first use (PEP 562), so `import subsidy_engine` costs nothing and a command
loads only what it uses:

    from subsidy_engine import read_roster, load_rulebook, evaluate_roster, write_run
    run = evaluate_roster(read_roster("roster.xlsx"), "2023", load_rulebook())
    write_run(run, "out/2023")
"""

from __future__ import annotations

import importlib
from typing import Any

from subsidy_engine.version import __version__

_PUBLIC: dict[str, str] = {
    # roster: file → validated persons and rejects
    "read_roster": "subsidy_engine.roster.read",
    "RawRoster": "subsidy_engine.roster.read",
    "validate": "subsidy_engine.roster.validate",
    "Validated": "subsidy_engine.roster.validate",
    # rulebook: YAML → checked Rulebook
    "load_rulebook": "subsidy_engine.rulebook.load",
    "DEFAULT_RULES": "subsidy_engine.rulebook.load",
    "Rulebook": "subsidy_engine.rulebook.model",
    # a run: evaluate, then write the folder
    "evaluate_roster": "subsidy_engine.run.pipeline",
    "evaluate_file": "subsidy_engine.run.pipeline",
    "RunResult": "subsidy_engine.run.result",
    "write_run": "subsidy_engine.run.output",
    # explain one person or household
    "Explainer": "subsidy_engine.engines.explain",
    # the auditor
    "rerun": "subsidy_engine.audit.rerun",
    "diff_files": "subsidy_engine.audit.diff",
    "audit_full": "subsidy_engine.audit.findings",
    "publish": "subsidy_engine.audit.publish",
    # the exception tree
    "SubsidyError": "subsidy_engine.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'subsidy_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
