"""Writing an impact folder atomically: summary, villages, households, changes, gains (CSV), impact.xlsx with the
same sheets, the rejected rows, and manifest.json naming both scenarios. No timestamps inside any file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from subsidy_engine.audit.workbook import write_sheets
from subsidy_engine.impact.run import ImpactRun
from subsidy_engine.roster.validate import REJECT_COLUMNS
from subsidy_engine.run.outdir import atomic_folder, os_errors
from subsidy_engine.run.output import input_manifest, rules_manifest, sha256, write_csv

XLSX_ROWS = 1_048_575  # rows a sheet holds below its header


def tables(run: ImpactRun) -> list[tuple[str, str, pd.DataFrame]]:
    """(file stem, sheet name, frame) of each table, in the workbook's order."""
    i = run.impact
    return [
        ("summary", "汇总", i.summary),
        ("villages", "按村", i.villages),
        ("households", "变化的户", i.households),
        ("changes", "变动明细", i.changes),
        ("gains", "月均增加分布", i.gains),
    ]


FORMATS = ("csv", "xlsx")


def write_impact(
    run: ImpactRun, out: str | Path, formats: tuple[str, ...] = FORMATS, *, overwrite: bool = False
) -> dict[str, object]:
    """The CSV files always; impact.xlsx when "xlsx" is in `formats` (the default). The folder appears whole
    at `out` or not at all; any OSError while writing becomes an OutputError."""
    with atomic_folder(out, overwrite=overwrite) as tmp, os_errors(out):
        return _write_all(run, tmp, "xlsx" in formats)


def _write_all(run: ImpactRun, d: Path, xlsx: bool) -> dict[str, object]:
    written: list[str] = []
    sheets: list[tuple[str, pd.DataFrame]] = []
    too_long: list[str] = []
    for stem, sheet, frame in tables(run):
        write_csv(frame, d / f"{stem}.csv")
        written.append(f"{stem}.csv")
        if len(frame) > XLSX_ROWS:  # the CSV holds every row; the sheet says where they are
            too_long.append(stem)
            frame = pd.DataFrame({"说明": [f"共 {len(frame)} 行,超过一张工作表的行数上限,见 {stem}.csv"]})
        sheets.append((sheet, frame))
    if xlsx:
        write_sheets(d / "impact.xlsx", sheets)
        written.append("impact.xlsx")
    write_csv(run.validated.rejects[REJECT_COLUMNS], d / "rejects.csv")
    written.append("rejects.csv")
    manifest = build_manifest(run, {name: sha256(d / name) for name in written}, too_long)
    (d / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def build_manifest(
    run: ImpactRun, outputs: dict[str, str], too_long: list[str] | None = None
) -> dict[str, object]:
    """The input, both scenarios (the baseline rulebook's hashes; the reform's `--set` edits on top of it, or
    the second rulebook's hashes), the engine version and the sha256 of each output."""
    reform: dict[str, object]
    if run.edits:
        reform = {"baseline_with_edits": [e.describe() for e in run.edits]}
    else:
        reform = {"rules": rules_manifest(run.reform)}
    out: dict[str, object] = {
        "kind": "impact",
        "period": run.period.label,
        "engine": {"name": "pandas", "version": run.version},
        "input": input_manifest(run.raw, run.validated),
        "baseline": {"rules": rules_manifest(run.baseline)},
        "reform": reform,
        "households": dict(run.impact.counts),
        "formats": ["csv", "xlsx"] if "impact.xlsx" in outputs else ["csv"],
        "outputs": outputs,
    }
    if too_long:
        out["not_in_workbook"] = too_long
    return out
