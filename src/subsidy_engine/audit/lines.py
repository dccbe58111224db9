"""Findings read from payment lines (paid, or computed when no paid list is given) against the roster's persons.

PAID_AFTER_DEATH, HEAD_DECEASED, DISABILITY_TO_TEKUN and CERT_EXPIRED look at each line's month (its reference
date: the first day for a monthly program, the schedule's date in that month otherwise) and the person the
line names; OVERPAID, UNDERPAID, UNPAID_ELIGIBLE and PAID_NOT_ELIGIBLE are the diff's lines, one finding each.
One finding per person (or household) and code, listing the months and adding up the amount at risk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from subsidy_engine.audit.diff import DiffResult
from subsidy_engine.roster import cells
from subsidy_engine.roster.validate import NO_DATE
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.payments import fen_text

DISABILITY_PROGRAMS = ("disability_living", "disability_care")
Finding = tuple[str, str, str, str, int]  # 代码, 户编号, 证件号码, 证据, amount in fen


def months_text(months: Iterable[str]) -> str:
    """['2023-01', '2023-02', '2023-03', '2023-05'] → '2023-01至2023-03、2023-05'."""
    ms = sorted(set(months))
    runs: list[list[str]] = []
    for m in ms:
        y, mo = int(m[:4]), int(m[5:7])
        if runs:
            py, pmo = int(runs[-1][-1][:4]), int(runs[-1][-1][5:7])
            if py * 12 + pmo + 1 == y * 12 + mo:
                runs[-1].append(m)
                continue
        runs.append([m])
    return "、".join(r[0] if len(r) == 1 else f"{r[0]}至{r[-1]}" for r in runs)


def day_text(n: int) -> str:
    return cells.from_day_number(n).isoformat()


def reference_days(lines: pd.DataFrame, rulebook: Rulebook) -> np.ndarray:
    """Day number of each line's reference date (unknown programs: the first day of the month)."""
    out = np.empty(len(lines), dtype=np.int64)
    cache: dict[tuple[str, str], int] = {}
    for i, (month, program) in enumerate(zip(lines["发放月份"], lines["项目"], strict=True)):
        key = (month, program)
        if key not in cache:
            y, m = int(month[:4]), int(month[5:7])
            d = dt.date(y, m, 1)
            try:
                sched = rulebook.program(program).schedule
            except KeyError:
                sched = None
            if sched is not None and sched.kind != "monthly":
                days = [md for md in sched.reference_dates if int(md.split("-")[0]) == m]
                if days:
                    d = dt.date(y, m, int(days[0].split("-")[1]))
            cache[key] = cells.day_number(d)
        out[i] = cache[key]
    return out


def line_findings(
    lines: pd.DataFrame, persons: pd.DataFrame, rulebook: Rulebook, from_paid: bool
) -> list[Finding]:
    """Findings about the persons the lines name. `lines`: 发放月份, 项目, 户编号, 证件号码, `_fen`."""
    if len(lines) == 0 or len(persons) == 0:
        return []
    people = persons.set_index(persons["id_number"].astype(str))
    known = lines["证件号码"].isin(people.index).to_numpy()
    lines = lines[known].reset_index(drop=True)
    ids = lines["证件号码"].to_numpy(dtype=object)
    who = people.loc[ids]
    died = who["died_on"].to_numpy(dtype=np.int64)
    ref = reference_days(lines, rulebook)
    first = np.array(
        [cells.day_number(dt.date(int(m[:4]), int(m[5:7]), 1)) for m in lines["发放月份"]], dtype=np.int64
    )
    household_programs = {p.id for p in rulebook.programs if p.entity == "household"}
    is_household = lines["项目"].isin(household_programs).to_numpy()
    is_head = (who["relation"].astype(str) == "户主").to_numpy()
    disability = lines["项目"].isin(DISABILITY_PROGRAMS).to_numpy()
    tekun = who["tekun"].to_numpy(dtype=bool)
    cert_end = who["disability_cert_valid_to"].to_numpy(dtype=np.int64)
    has_cert = who["disability_cert"].notna().to_numpy()

    out: list[Finding] = []

    def collect(code: str, mask: np.ndarray, evidence: str, by_household: bool = False) -> None:
        sel = lines[mask]
        if not len(sel):
            return
        key = "户编号" if by_household else "证件号码"
        for _, g in sel.groupby([key, "项目"], sort=True):
            pid = g["证件号码"].iat[0]
            p = people.loc[pid]
            text = evidence.format(
                name=p["name"],
                died=day_text(int(p["died_on"])) if p["died_on"] != NO_DATE else "",
                cert_end=day_text(int(p["disability_cert_valid_to"]))
                if p["disability_cert_valid_to"] != NO_DATE
                else "",
                program=g["项目"].iat[0],
                months=months_text(g["发放月份"]),
                source="实发" if from_paid else "应发",
            )
            out.append((code, str(g["户编号"].iat[0]), str(pid), text, int(g["_fen"].sum())))

    if from_paid:
        collect(
            "PAID_AFTER_DEATH",
            ~is_household & (died < ref),
            "{name} 死亡日期 {died};{program} 实发月份 {months} 在死亡之后",
        )
    collect(
        "HEAD_DECEASED",
        is_household & is_head & (died < first),
        "户主 {name} 死亡日期 {died};{program} {source}月份 {months} 仍以其为领款人",
        by_household=True,
    )
    collect(
        "DISABILITY_TO_TEKUN",
        disability & tekun,
        "{name} 特困人员=是;{program} {source}月份 {months}(特困人员不享受此项残疾人补贴)",
    )
    collect(
        "CERT_EXPIRED",
        disability & has_cert & (cert_end < first),
        "{name} 残疾证有效期至 {cert_end};{program} {source}月份 {months} 在有效期之后",
    )
    return out


DIFF_CODES = {
    "missing": "UNPAID_ELIGIBLE",
    "extra": "PAID_NOT_ELIGIBLE",
    "over": "OVERPAID",
    "under": "UNDERPAID",
}


def diff_findings(result: DiffResult) -> list[Finding]:
    out: list[Finding] = []
    f = result.lines
    cols = ["_kind", "_due", "_paid", "姓名", "项目", "发放月份", "户编号", "证件号码"]
    for kind, due, paid, name, program, month, hh, pid in zip(*(f[c] for c in cols), strict=True):
        due, paid = int(due), int(paid)
        amount = {"missing": due, "extra": paid, "over": paid - due, "under": due - paid}[kind]
        evidence = (
            f"{name} {program} {month}:应发 {fen_text(due) if kind != 'extra' else '无'},"
            f"实发 {fen_text(paid) if kind != 'missing' else '无'}"
        )
        out.append((DIFF_CODES[kind], str(hh), str(pid), evidence, amount))
    return out
