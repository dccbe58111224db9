"""The auditor's findings (DESIGN §4): what a roster, a run and (optionally) a paid list reveal, with amounts at risk.

Findings come from the rejects and the facts of a run, so a row rejected by validation is still examined for
what it reveals (ID_INVALID and PERSON_DUPLICATE come from the rejects and the raw roster values); the
other checks read the accepted persons' facts month by month, the payment lines (audit_lines.py) and the diff
of paid against computed (diff.py). Each finding: 代码 (stable), 标题, 户编号, 证件号码 (several joined by
`;`), 证据 (the fields that trigger it, as text) and 涉及金额 (yuan, 2 decimals; 0.00 when nothing was paid).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from subsidy_engine.audit.diff import DiffResult, PaymentList, diff, from_run, read_payments
from subsidy_engine.audit.lines import Finding, diff_findings, line_findings, months_text
from subsidy_engine.engines.facts import base_facts
from subsidy_engine.engines.vectorized import VectorizedEngine
from subsidy_engine.periods import Period, parse_period
from subsidy_engine.roster.read import RawRoster
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.payments import fen_text
from subsidy_engine.run.pipeline import RunResult, evaluate_roster

FINDING_COLUMNS = ["代码", "标题", "户编号", "证件号码", "证据", "涉及金额"]
TITLES: dict[str, str] = {
    "ID_INVALID": "证件号码无效",
    "PERSON_DUPLICATE": "同一人重复登记",
    "PAID_AFTER_DEATH": "死亡后仍发放",
    "HEAD_DECEASED": "户主已死亡仍为低保领款人",
    "TEKUN_AND_DIBAO": "特困人员同时低保在保",
    "DISABILITY_TO_TEKUN": "特困人员领取残疾人补贴",
    "DIBAO_VEHICLE": "低保户家庭有机动车",
    "DIBAO_PUBLIC_PAYROLL": "低保户有财政供养人员",
    "DIBAO_INCOME_NOT_BELOW_STANDARD": "低保户家庭月人均收入不低于低保标准",
    "CERT_EXPIRED": "残疾证过期后仍发放",
    "OVERPAID": "超标准发放",
    "UNDERPAID": "少发",
    "UNPAID_ELIGIBLE": "应享未享",
    "PAID_NOT_ELIGIBLE": "不符合条件而发放",
}
ID_REASONS = ("ID_FORMAT", "ID_BIRTH_DATE", "ID_CHECKSUM")
DIBAO = "dibao"


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
    found += _dibao_findings(run, paid_lines)
    found += _tekun_dibao_findings(run, paid_lines)
    source = paid_lines if paid_lines is not None else computed.lines
    found += line_findings(source, run.validated.persons, run.rulebook, from_paid=paid is not None)
    if d is not None:
        found += diff_findings(d)
    return AuditResult(_frame(found), run, d, paid)


def write_workbook(result: AuditResult, path: str | Path) -> Path:
    """The audit workbook of a result: 汇总 (应发 vs 实发, findings by type), one sheet per code, the diff."""
    from subsidy_engine.audit.diff import diff_sheets
    from subsidy_engine.audit.workbook import write_audit_workbook

    d = result.diff
    return write_audit_workbook(
        path,
        result.findings,
        TITLES,
        due_fen=int(result.run.payments["_fen"].sum()),
        paid_fen=d.paid_fen if d is not None else None,
        diff_sheets=diff_sheets(d) if d is not None else None,
    )


def _frame(found: list[Finding]) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(TITLES)}
    found = sorted(found, key=lambda f: (order[f[0]], f[1], f[2], f[3]))
    return pd.DataFrame(
        [[c, TITLES[c], hh, pid, ev, fen_text(fen)] for c, hh, pid, ev, fen in found],
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
        out.append(("ID_INVALID", str(r.户编号), pid, evidence, _paid_to(paid, {pid.upper()})))
    dup = rejects[rejects["原因代码"] == "ID_DUPLICATE"]
    for pid, g in dup.groupby(dup["值"].astype(str).str.upper(), sort=True):
        households = sorted(set(g["户编号"].astype(str)))
        where = ";".join(f"第 {r.行号} 行 户 {r.户编号} {r.姓名}" for r in g.itertuples(index=False))
        scope = f"分属 {len(households)} 户" if len(households) > 1 else "同一户内重复"
        evidence = f"证件号码出现 {len(g)} 次,{scope}:{where}"
        out.append(("PERSON_DUPLICATE", ";".join(households), str(pid), evidence, _paid_to(paid, {str(pid)})))
    return out


def _dibao_findings(run: RunResult, paid: pd.DataFrame | None) -> list[Finding]:
    """DIBAO_VEHICLE / DIBAO_PUBLIC_PAYROLL / DIBAO_INCOME_NOT_BELOW_STANDARD: a 低保 household in its 低保
    months of the period that fails dibao_active for that reason (checked on the first day of each month)."""
    persons = run.validated.persons
    if len(persons) == 0:
        return []
    rb = run.rulebook
    engine = VectorizedEngine(rb)
    base = base_facts(persons)
    heads = np.flatnonzero(base.frame["is_head"].to_numpy())
    areas = ("城市", "农村")
    hits: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (code, head pos) -> [(month, detail)]
    for y, m in run.period.months:
        ctx = engine.context(base, dt.date(y, m, 1))
        month = f"{y:04d}-{m:02d}"
        in_period = ctx.col("dibao_in_period")
        vehicle = ctx.col("owns_vehicle")
        payroll_person = ctx.col("alive") & ctx.col("public_payroll")
        payroll_hh = (
            np.bincount(base.household[payroll_person], minlength=base.n_households)[base.household] > 0
        )
        income = ctx.col("income_per_capita_month")
        area = ctx.col("dibao_area")
        std_table = ctx.params.get("dibao_standard")
        standard = (
            np.array([std_table.get(a, 0) for a in areas] + [0], dtype=np.int64)[area]
            if isinstance(std_table, dict)
            else None
        )
        for pos in heads[in_period[heads]]:
            if vehicle[pos]:
                hits.setdefault(("DIBAO_VEHICLE", pos), []).append((month, "家庭有机动车=是"))
            if payroll_hh[pos]:
                members = np.flatnonzero((base.household == base.household[pos]) & payroll_person)
                names = "、".join(f"{persons['name'].iat[i]}({persons['relation'].iat[i]})" for i in members)
                hits.setdefault(("DIBAO_PUBLIC_PAYROLL", pos), []).append((month, f"财政供养人员: {names}"))
            if standard is not None and income[pos] >= standard[pos]:
                detail = (
                    f"家庭月人均收入 {fen_text(int(income[pos]))} 元 ≥ {areas[area[pos]]}低保标准 "
                    f"{fen_text(int(standard[pos]))} 元"
                )
                hits.setdefault(("DIBAO_INCOME_NOT_BELOW_STANDARD", pos), []).append((month, detail))
    out: list[Finding] = []
    for (code, pos), months in sorted(hits.items()):
        hh = str(persons["household_id"].iat[pos])
        by_detail: dict[str, list[str]] = {}
        for month, detail in months:
            by_detail.setdefault(detail, []).append(month)
        area_text = persons["dibao_area"].iat[pos]
        evidence = f"低保类别 {area_text};" + ";".join(
            f"{detail}({months_text(ms)})" for detail, ms in by_detail.items()
        )
        at_risk = 0
        if paid is not None:
            sel = (
                (paid["项目"] == DIBAO)
                & (paid["户编号"] == hh)
                & paid["发放月份"].isin([m for m, _ in months])
            )
            at_risk = int(paid.loc[sel, "_fen"].sum())
        out.append((code, hh, str(persons["id_number"].iat[pos]), evidence, at_risk))
    return out


def _tekun_dibao_findings(run: RunResult, paid: pd.DataFrame | None) -> list[Finding]:
    """TEKUN_AND_DIBAO: 特困人员 = 是 and 低保在保 = 是 in a 低保 household. At risk (paid list given): the 低保
    paid to the household in the months the person was also paid 特困 (the stacked months)."""
    p = run.validated.persons
    mask = p["tekun"].to_numpy(dtype=bool) & p["dibao_covered"].to_numpy(dtype=bool) & p["dibao_area"].notna()
    out: list[Finding] = []
    for i in np.flatnonzero(mask.to_numpy() if hasattr(mask, "to_numpy") else mask):
        hh, pid = str(p["household_id"].iat[i]), str(p["id_number"].iat[i])
        evidence = f"{p['name'].iat[i]} 特困人员=是 且 低保在保=是(低保类别 {p['dibao_area'].iat[i]})"
        at_risk = 0
        if paid is not None:
            tekun_months = set(paid.loc[(paid["项目"] == "tekun") & (paid["证件号码"] == pid), "发放月份"])
            sel = (paid["项目"] == DIBAO) & (paid["户编号"] == hh) & paid["发放月份"].isin(tekun_months)
            at_risk = int(paid.loc[sel, "_fen"].sum())
            if tekun_months and at_risk:
                evidence += f";同月实发特困与低保: {months_text(paid.loc[sel, '发放月份'])}"
        out.append(("TEKUN_AND_DIBAO", hh, pid, evidence, at_risk))
    return out
