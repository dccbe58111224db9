"""Writing a run's folder atomically: payments, totals, rejects and manifest.json (docs/specification.md §5).

Everything is written into a temporary sibling folder and renamed into place at the end (outdir.py), so a
failed run leaves no half-written folder. Outputs are deterministic: no timestamps or run ids inside any file
(the writers are in writers.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from subsidy_engine.audit.publish import write_publication
from subsidy_engine.roster.read import RawRoster
from subsidy_engine.roster.validate import REJECT_COLUMNS, Validated
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.outdir import atomic_folder, os_errors
from subsidy_engine.run.payments import PAYMENT_COLUMNS
from subsidy_engine.run.result import RunResult
from subsidy_engine.run.writers import write_csv, write_parquet, write_xlsx

__all__ = [
    "FORMATS",
    "atomic_folder",
    "build_manifest",
    "input_manifest",
    "rules_manifest",
    "sha256",
    "write_csv",
    "write_parquet",
    "write_run",
    "write_xlsx",
]

FORMATS = ("csv", "xlsx", "parquet")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_run(
    result: RunResult,
    out: str | Path,
    formats: tuple[str, ...] = ("csv",),
    *,
    overwrite: bool = False,
    publish: bool = False,
) -> dict[str, object]:
    """The run folder (payments, totals, rejects, manifest; with `publish` the masked 公示 copies in publish/
    too), appearing whole at `out` or not at all; any OSError while writing becomes an OutputError."""
    with atomic_folder(out, overwrite=overwrite) as tmp, os_errors(out):
        manifest = _write_all(result, tmp, formats)
        if publish:
            write_publication(tmp, tmp / "publish")
        return manifest


def _write_all(result: RunResult, d: Path, formats: tuple[str, ...]) -> dict[str, object]:
    payments = result.payments[PAYMENT_COLUMNS]
    written: list[str] = []
    write_csv(payments, d / "payments.csv")
    written.append("payments.csv")
    if "xlsx" in formats:
        write_xlsx(payments, d / "payments.xlsx", "发放名单")
        written.append("payments.xlsx")
    if "parquet" in formats:
        write_parquet(payments, d / "payments.parquet")
        written.append("payments.parquet")
    write_csv(result.totals, d / "totals.csv")
    written.append("totals.csv")
    write_csv(result.validated.rejects[REJECT_COLUMNS], d / "rejects.csv")
    written.append("rejects.csv")
    manifest = build_manifest(result, {name: sha256(d / name) for name in written}, formats)
    (d / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def build_manifest(
    result: RunResult, outputs: dict[str, str], formats: tuple[str, ...] = ("csv",)
) -> dict[str, object]:
    """What `rerun` needs to redo a run: the input (path as given, sha256), the rulebook (folder, hashes),
    the engine version, the formats requested and the sha256 of each output; `cross_check` (the engines
    compared, the lines they agree on) only when `--cross-check` ran, so other manifests keep their bytes."""
    assumed = sorted(set().union(*result.assumed.values())) if result.assumed else []
    cross_check = {"cross_check": result.cross_check} if result.cross_check is not None else {}
    return {
        "period": result.period.label,
        "engine": {"name": result.engine, "version": result.version},
        **cross_check,
        "input": input_manifest(result.raw, result.validated),
        "rules": rules_manifest(result.rulebook),
        "assumed_parameters": assumed,
        "formats": [f for f in FORMATS if f in formats or f == "csv"],
        "outputs": outputs,
    }


def input_manifest(raw: RawRoster, v: Validated) -> dict[str, object]:
    """The roster as read: file name, path as given, sha256 and what validation made of its rows."""
    return {
        "file": Path(raw.source).name,
        "path": raw.source,
        "sha256": raw.sha256,
        "rows_read": v.rows_read,
        "rows_accepted": v.rows_accepted,
        "rows_rejected": v.rows_rejected,
        "households_accepted": v.households_accepted,
        "households_rejected": v.households_rejected,
        "ignored_columns": raw.ignored_columns,
    }


def rules_manifest(rulebook: Rulebook) -> dict[str, object]:
    """The rulebook as loaded: name, folder, the hash of its content and of each file."""
    return {
        "name": rulebook.name,
        "folder": str(rulebook.folder),
        "content_sha256": rulebook.content_hash,
        "files": dict(sorted(rulebook.files.items())),
    }
