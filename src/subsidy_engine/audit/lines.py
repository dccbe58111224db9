"""Helpers for findings about payment lines: months as text, each line's reference date, and the diff's lines
as findings (OVERPAID, UNDERPAID, UNPAID_ELIGIBLE, PAID_NOT_ELIGIBLE: one finding each, the program named by
its title in the evidence)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from subsidy_engine.audit.codes import Code
from subsidy_engine.audit.diff import DiffResult
from subsidy_engine.money import fen_text
from subsidy_engine.roster import cells
from subsidy_engine.rulebook.model import Rulebook

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


DIFF_CODES = {
    "missing": Code.UNPAID_ELIGIBLE,
    "extra": Code.PAID_NOT_ELIGIBLE,
    "over": Code.OVERPAID,
    "under": Code.UNDERPAID,
}


def diff_findings(result: DiffResult, titles: dict[str, str] | None = None) -> list[Finding]:
    """One finding per differing line; the evidence names the program by its title (`titles`, from the
    rulebook's programs; a code the rulebook does not know, as in a paid list, stays as written)."""
    titles = titles or {}
    out: list[Finding] = []
    f = result.lines
    cols = ["_kind", "_due", "_paid", "姓名", "项目", "发放月份", "户编号", "证件号码"]
    for kind, due, paid, name, program, month, hh, pid in zip(*(f[c] for c in cols), strict=True):
        due, paid = int(due), int(paid)
        amount = {"missing": due, "extra": paid, "over": paid - due, "under": due - paid}[kind]
        evidence = (
            f"{name} {titles.get(str(program), program)} {month}:应发 {fen_text(due) if kind != 'extra' else '无'},"
            f"实发 {fen_text(paid) if kind != 'missing' else '无'}"
        )
        out.append((DIFF_CODES[kind], str(hh), str(pid), evidence, amount))
    return out
