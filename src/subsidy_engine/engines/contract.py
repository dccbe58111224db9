"""The engine contract: what every engine (vectorized, rete, dask, explain) does the same way.

The schedule of reference dates of a period, the parameter values in force at a date, a program's hit policy
(collect every matching rule, the `highest` amount, or the `first` matching rule), and the month code of a
line. The engines stay independent where the cross-check needs it — in how they evaluate conditions and
amounts — and share this, which is the rulebook's meaning, not an evaluation.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from subsidy_engine.errors import EvaluationError
from subsidy_engine.periods import Period, reference_dates
from subsidy_engine.rulebook.model import Rulebook

Params = dict[str, int | dict[str, int]]


def schedule(rulebook: Rulebook, period: Period) -> dict[dt.date, list[int]]:
    """The reference dates of the period, each with the indices of the programs evaluated that day, in order."""
    by_date: dict[dt.date, list[int]] = {}
    for pi, p in enumerate(rulebook.programs):
        for d in reference_dates(p.schedule.kind, p.schedule.reference_dates, period):
            by_date.setdefault(d, []).append(pi)
    return dict(sorted(by_date.items()))


def params_at(rulebook: Rulebook, d: dt.date) -> Params:
    """Every parameter's value in force at d, in integer fen (a decision table: fen by key)."""
    return {k: p.fen_at(d) for k, p in rulebook.params.items()}


def month_code(d: dt.date) -> int:
    """The payment month of a reference date as one integer (year × 12 + month − 1)."""
    return d.year * 12 + d.month - 1


def choose(policy: str, hits: list[tuple[int, int]]) -> list[int]:
    """Of one person's matching rules [(rule index, amount in fen)], the indices the hit policy keeps.
    `highest`: the largest amount, the earlier rule on a tie; `first`: the earliest rule; `collect`: all.
    A kept rule with a zero amount writes no line (the caller drops it)."""
    if not hits:
        return []
    if policy == "highest":
        return [min(hits, key=lambda h: (-h[1], h[0]))[0]]
    if policy == "first":
        return [min(h[0] for h in hits)]
    return sorted(h[0] for h in hits)


def choose_arrays(
    policy: str, idx: np.ndarray, rule_k: np.ndarray, amounts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`choose` over arrays of matches (person row, rule index, amount), for every person at once."""
    if policy not in ("highest", "first") or not len(idx):
        return idx, rule_k, amounts
    key = -amounts if policy == "highest" else np.zeros_like(amounts)
    order = np.lexsort((rule_k, key, idx))
    idx, rule_k, amounts = idx[order], rule_k[order], amounts[order]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = idx[1:] != idx[:-1]
    return idx[first], rule_k[first], amounts[first]


def person_named(rows: np.ndarray | list[int] | None, pos: int) -> str:
    """'名册第 12 行' for a person at position `pos`, or 'the pos-th record' when no row numbers are known."""
    return f"名册第 {int(rows[pos])} 行" if rows is not None else f"第 {pos + 1} 个人员记录"


def negative_amount(rule_id: str, d: dt.date, who: str, file: str) -> EvaluationError:
    """A rule that computes a negative amount stops the run: the rule file is wrong, not the person."""
    return EvaluationError(f"规则 {rule_id} 在 {d} 得出负数金额({who});请检查规则文件 {file}")
