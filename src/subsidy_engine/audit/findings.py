"""The auditor's findings (docs/design.md §4): what a roster, a run and (optionally) a paid list reveal, with amounts at risk.

Findings come from the rejects and the facts of a run, so a row rejected by validation is still examined for
what it reveals (ID_INVALID and PERSON_DUPLICATE come from the rejects and the raw roster values); the
other checks read the accepted persons' facts month by month, the payment lines (audit_lines.py) and the diff
of paid against computed (diff.py). Each finding: 代码 (stable), 标题, 户编号, 证件号码 (several joined by
`;`), 证据 (the fields that trigger it, as text; a program named by its title from the rulebook) and
涉及金额 (yuan, 2 decimals; 0.00 when nothing was paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from subsidy_engine.audit.codes import DIFF_TITLES, ROSTER_TITLES, Code
from subsidy_engine.audit.declared import Declared
from subsidy_engine.audit.diff import DiffResult, PaymentList, diff, diff_sheets, from_run, read_payments
from subsidy_engine.audit.lines import Finding, diff_findings
from subsidy_engine.audit.workbook import write_audit_workbook
from subsidy_engine.money import fen_text
from subsidy_engine.periods import Period, parse_period
from subsidy_engine.roster.read import RawRoster
from subsidy_engine.roster.reasons import Reason
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.pipeline import evaluate_roster
from subsidy_engine.run.result import RunResult

FINDING_COLUMNS = ["代码", "标题", "户编号", "证件号码", "证据", "涉及金额"]


ID_REASONS = (Reason.ID_FORMAT, Reason.ID_BIRTH_DATE, Reason.ID_CHECKSUM)


def finding_titles(rulebook: Rulebook | None = None) -> dict[str, str]:
    """Every finding code with its title, in report order: the roster's, the rulebook's, the paid list's."""
    rb = rulebook or load_rulebook()
    return {
        **{str(k): v for k, v in ROSTER_TITLES.items()},
        **rb.finding_titles(),
        **{str(k): v for k, v in DIFF_TITLES.items()},
    }


@dataclass
class AuditResult:
    findings: pd.DataFrame  # FINDING_COLUMNS
    run: RunResult
    diff: DiffResult | None  # when a paid list was given
    paid: PaymentList | None


def audit(
    raw_roster: RawRoster,
    period: str | Period,
    rulebook: Rulebook | None = None,
    paid: PaymentList | str | Path | None = None,
) -> pd.DataFrame:
    """The findings frame (FINDING_COLUMNS) for a roster in a period, against a paid list if one is given."""
    return audit_full(raw_roster, period, rulebook, paid).findings


def audit_full(
    raw_roster: RawRoster,
    period: str | Period,
    rulebook: Rulebook | None = None,
    paid: PaymentList | str | Path | None = None,
) -> AuditResult:
    per = parse_period(period) if isinstance(period, str) else period
    run = evaluate_roster(raw_roster, per, rulebook)
    paid_list = read_payments(paid, "实发") if isinstance(paid, (str, Path)) else paid
    return audit_run(run, paid_list)


def audit_run(run: RunResult, paid: PaymentList | None = None) -> AuditResult:
    computed = from_run(run.payments)
    d = diff(paid, computed) if paid is not None else None
    paid_lines = paid.lines if paid is not None else None
    found: list[Finding] = []
    found += _reject_findings(run.validated.rejects, paid_lines)
    declared = Declared(run.rulebook, run.validated.persons, run.period)
    found += declared.findings(paid_lines, computed.lines)
    if d is not None:
        found += diff_findings(d, {p.id: p.title for p in run.rulebook.programs})
    return AuditResult(_frame(found, finding_titles(run.rulebook)), run, d, paid)


def write_workbook(result: AuditResult, path: str | Path) -> Path:
    """The audit workbook of a result: 汇总 (应发 vs 实发, findings by type), one sheet per code, the diff."""
    d = result.diff
    return write_audit_workbook(
        path,
        result.findings,
        finding_titles(result.run.rulebook),
        due_fen=int(result.run.payments["_fen"].sum()),
        paid_fen=d.paid_fen if d is not None else None,
        diff_sheets=diff_sheets(d) if d is not None else None,
    )


def _frame(found: list[Finding], titles: dict[str, str]) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(titles)}
    found = sorted(found, key=lambda f: (order[f[0]], f[1], f[2], f[3]))
    return pd.DataFrame(
        [[c, titles[c], hh, pid, ev, fen_text(fen)] for c, hh, pid, ev, fen in found],
        columns=FINDING_COLUMNS,
    )


def _paid_to(paid: pd.DataFrame | None, ids: set[str]) -> int:
    if paid is None or not ids:
        return 0
    return int(paid.loc[paid["证件号码"].isin(ids), "_fen"].sum())


def _reject_findings(rejects: pd.DataFrame, paid: pd.DataFrame | None) -> list[Finding]:
    """ID_INVALID (one per row) and PERSON_DUPLICATE (one per 证件号码), from the raw values in the rejects."""
    out: list[Finding] = []
    bad = rejects[rejects["原因代码"].isin(ID_REASONS)]
    for r in bad.itertuples(index=False):
        pid = str(r.证件号码)
        evidence = f"第 {r.行号} 行 {r.姓名} 证件号码 {pid!r}:{r.说明}"
        out.append((Code.ID_INVALID, str(r.户编号), pid, evidence, _paid_to(paid, {pid.upper()})))
    dup = rejects[rejects["原因代码"] == Reason.ID_DUPLICATE]
    for pid, g in dup.groupby(dup["值"].astype(str).str.upper(), sort=True):
        households = sorted(set(g["户编号"].astype(str)))
        where = ";".join(f"第 {r.行号} 行 户 {r.户编号} {r.姓名}" for r in g.itertuples(index=False))
        scope = f"分属 {len(households)} 户" if len(households) > 1 else "同一户内重复"
        evidence = f"证件号码出现 {len(g)} 次,{scope}:{where}"
        out.append(
            (Code.PERSON_DUPLICATE, ";".join(households), str(pid), evidence, _paid_to(paid, {str(pid)}))
        )
    return out
