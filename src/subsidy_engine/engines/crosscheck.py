"""`--cross-check`: the pandas and rete engines must produce the identical line set, or the run fails.

The report has one row per (payment month, program, person) whose lines differ: each engine's rules and
amounts, and the rete side's evidence (each rule's verdict, first failed condition, amount computation, from
explain.py). cli.py writes it next to the output folder as `<out>.cross-check.csv`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from subsidy_engine.engines.explain import Explainer
from subsidy_engine.money import fen_text
from subsidy_engine.roster.cells import month_text
from subsidy_engine.rulebook.model import Rulebook

REPORT_COLUMNS = [
    "发放月份",
    "项目",
    "户编号",
    "证件号码",
    "姓名",
    "参考日期",
    "pandas规则",
    "pandas金额",
    "rete规则",
    "rete金额",
    "rete依据",
]
EVIDENCE_LIMIT = 1_000  # explain at most this many differences (the rest still listed)


def _by_key(lines: pd.DataFrame) -> dict[tuple[int, str, int], list[tuple[str, int, Any]]]:
    out: dict[tuple[int, str, int], list[tuple[str, int, Any]]] = {}
    for m, prog, rule, pos, amount, d in lines[
        ["month", "program", "rule", "pos", "amount", "ref_date"]
    ].itertuples(index=False):
        out.setdefault((int(m), str(prog), int(pos)), []).append((str(rule), int(amount), d))
    for v in out.values():
        v.sort(key=lambda x: (x[0], x[1]))
    return out


def compare(
    pandas_lines: pd.DataFrame, rete_lines: pd.DataFrame, persons: pd.DataFrame, rulebook: Rulebook
) -> pd.DataFrame:
    """The differing lines (an empty frame when both engines agree)."""
    a, b = _by_key(pandas_lines), _by_key(rete_lines)
    keys = sorted(
        k for k in set(a) | set(b) if [x[:2] for x in a.get(k, [])] != [x[:2] for x in b.get(k, [])]
    )
    explainer = Explainer(rulebook) if keys else None
    rows = []
    for n, (m, prog, pos) in enumerate(keys):
        left, right = a.get((m, prog, pos), []), b.get((m, prog, pos), [])
        d = (left or right)[0][2]
        d = d if isinstance(d, dt.date) else pd.Timestamp(d).date()
        evidence = ""
        if explainer is not None and n < EVIDENCE_LIMIT:
            evidence = explainer.evidence(persons, pos, prog, d)
        rows.append(
            [
                month_text(m),
                prog,
                persons["household_id"].iat[pos],
                persons["id_number"].iat[pos],
                persons["name"].iat[pos],
                d.isoformat(),
                ";".join(r for r, _, _ in left),
                ";".join(fen_text(x) for _, x, _ in left),
                ";".join(r for r, _, _ in right),
                ";".join(fen_text(x) for _, x, _ in right),
                evidence,
            ]
        )
    return pd.DataFrame(rows, columns=REPORT_COLUMNS, dtype=object)
