"""The dask engine's two ways out: a RunResult (written by output.write_run like any other run, the same bytes
as the pandas engine), or a streamed run folder for rosters too large for one process:

    DIR/payments/part-NNNNN.parquet   one per partition (households whole), each sorted like payments.csv
    DIR/totals.csv, DIR/rejects.csv    the same bytes as a gathered run
    DIR/manifest.json                  formats ["parquet-dataset"], the sha256 of every part

The streamed folder appears whole or not at all, as write_run's does; the workers write the parts into the
temporary folder beside DIR, so with a remote scheduler DIR must be on storage the workers share.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from subsidy_engine.engines.dask.engine import DaskOptions, DaskRun, gathered_payments, run
from subsidy_engine.engines.dask.totals import merge_totals
from subsidy_engine.engines.vectorized import LINE_COLUMNS, Progress
from subsidy_engine.errors import RejectedRowsError
from subsidy_engine.periods import Period, parse_period
from subsidy_engine.roster.validate import REJECT_COLUMNS
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.output import atomic_folder, build_manifest, sha256, write_csv
from subsidy_engine.run.result import RunResult
from subsidy_engine.run.totals import totals_frame


def _refuse_rejected(done: DaskRun, strict: bool) -> None:
    if not strict:
        return
    rejected = sum(p.rows_rejected for p in done.parts)
    if rejected:
        households = sum(p.households_rejected for p in done.parts)
        raise RejectedRowsError(
            f"--strict: {rejected} 行被拒绝({households} 户),未生成发放名单", rejected_rows=rejected
        )


def _prepare(period: str | Period, rules: str | Path | Rulebook | None) -> tuple[Period, Rulebook]:
    rb = rules if isinstance(rules, Rulebook) else load_rulebook(rules)
    per = parse_period(period) if isinstance(period, str) else period
    rb.check_period(per)
    return per, rb


def evaluate_file(
    path: str | Path,
    period: str | Period,
    rules: str | Path | Rulebook | None = None,
    *,
    strict: bool = False,
    options: DaskOptions | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """A whole run on the cluster, the payment lines gathered: the RunResult of `pipeline.evaluate_file`."""
    per, rb = _prepare(period, rules)
    done = run(path, rb, per, options or DaskOptions(), progress=progress)
    _refuse_rejected(done, strict)
    payments = gathered_payments(done.parts)
    totals = totals_frame(payments, rb, done.assumed)
    lines = pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})  # lines stay per partition
    return RunResult(per, rb, done.raw(), done.validated(), lines, payments, totals, done.assumed, "dask")


def evaluate_stream(
    path: str | Path,
    period: str | Period,
    out: str | Path,
    rules: str | Path | Rulebook | None = None,
    *,
    strict: bool = False,
    overwrite: bool = False,
    options: DaskOptions | None = None,
    progress: Progress | None = None,
) -> tuple[RunResult, dict[str, object]]:
    """A run whose payment list goes straight from the workers to DIR/payments/ (see the module docstring).
    Returns a RunResult without payment lines (its totals are whole) and the manifest written."""
    per, rb = _prepare(period, rules)
    with atomic_folder(out, overwrite=overwrite) as tmp:
        (tmp / "payments").mkdir()
        done = run(
            path, rb, per, options or DaskOptions(), stream_to=str(tmp / "payments"), progress=progress
        )
        _refuse_rejected(done, strict)
        totals = merge_totals([p.totals for p in done.parts if p.totals is not None], rb, done.assumed)
        empty = pd.DataFrame()
        result = RunResult(per, rb, done.raw(), done.validated(), empty, empty, totals, done.assumed, "dask")
        if progress:
            progress("write", 0, 1)
        write_csv(totals, tmp / "totals.csv")
        write_csv(result.validated.rejects[REJECT_COLUMNS], tmp / "rejects.csv")
        outputs = {f"payments/{name}": sha for p in done.parts if p.file for name, sha in [p.file]}
        outputs.update({name: sha256(tmp / name) for name in ("totals.csv", "rejects.csv")})
        manifest = build_manifest(result, dict(sorted(outputs.items())))
        manifest["formats"] = ["parquet-dataset"]
        manifest["payment_lines"] = sum(p.lines for p in done.parts)
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return result, manifest
