"""From a run folder to the bank and back: the batch (with its accounts), its files, and the reconciliation.

The steps the command line (cli/bank.py) and, later, the web app call: `prepare` opens and checks the run folder,
reads the payees' accounts from the roster the run was computed from, and builds the batch (all lines, or the
lines a reconciliation left unpaid); `export` writes the bank file and the held-back list; `settle` reads the
bank's return against the same batch and writes the reconciliation folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from subsidy_engine.release.accounts import roster_accounts
from subsidy_engine.release.bankfile import held_path, write_bank_file, write_held
from subsidy_engine.release.batch import LINE_KEY, Batch, build_batch
from subsidy_engine.release.layout import Layout
from subsidy_engine.release.ledger import Unpaid, read_unpaid, write_reconciliation
from subsidy_engine.release.reconcile import Reconciliation, reconcile
from subsidy_engine.release.returns import read_return
from subsidy_engine.release.runfolder import open_run
from subsidy_engine.run.outdir import atomic_file, check_target, os_errors


@dataclass
class Prepared:
    batch: Batch
    unpaid: Unpaid | None  # the reconciliation re-issued, if any
    same_account: int = 0  # re-issued failed lines whose account is still the one the bank refused


def prepare(
    run_dir: str | Path,
    layout: Layout,
    *,
    roster: str | Path | None = None,
    reissue: str | Path | None = None,
) -> Prepared:
    """The batch of `run_dir` (only the lines `reissue`, a reconciliation folder, left unpaid, when given)."""
    run = open_run(run_dir)
    unpaid = read_unpaid(reissue, run.period) if reissue is not None else None
    positions = unpaid.positions(run) if unpaid is not None else None
    chosen = run.payments["证件号码"] if positions is None else run.payments["证件号码"].iloc[positions]
    accounts = roster_accounts(run.roster_path(roster), run.roster_sha256, set(chosen))
    batch = build_batch(
        run,
        accounts,
        layout,
        positions,
        reissue=unpaid.digest if unpaid is not None else b"",
        reissue_of=unpaid.batch if unpaid is not None else "",
    )
    same = 0
    if unpaid is not None:
        p = run.payments
        for line in batch.lines:
            key = tuple(str(p[c].iat[line.positions[0]]) for c in LINE_KEY)
            if unpaid.failed_accounts.get(key) == line.account:
                same += 1
    return Prepared(batch, unpaid, same)


def export(
    batch: Batch, layout: Layout, out: Path, *, encoding: str | None = None, overwrite: bool = False
) -> tuple[Path, Path]:
    """The bank file at `out` and the held-back list beside it, each whole or not at all."""
    held = held_path(out)
    for target in (out, held):
        check_target(target, overwrite=overwrite, folder=False, parents=False)
    with atomic_file(held, overwrite=overwrite, parents=False) as tmp, os_errors(held):
        write_held(batch, tmp, layout.codec(encoding))
    with atomic_file(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
        write_bank_file(batch, layout, tmp, kind=out.suffix.lower().lstrip("."), encoding=encoding)
    return out, held


def settle(
    prepared: Prepared, layout: Layout, return_file: Path, out: Path, *, overwrite: bool = False
) -> tuple[Reconciliation, list[Path]]:
    """Reconcile the bank's return with the batch and write the reconciliation folder at `out`."""
    check_target(out, overwrite=overwrite, parents=False)
    rec = reconcile(prepared.batch, read_return(return_file, layout.returns))
    previous = prepared.unpaid.paid if prepared.unpaid is not None else None
    return rec, write_reconciliation(rec, out, return_file, previous, overwrite=overwrite)
