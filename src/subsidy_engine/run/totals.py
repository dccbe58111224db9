"""Totals of a payment list (docs/specification.md §5): per program and rule, per (乡镇, 行政村) and overall, with 人数, 人次, 金额,
and which totals rest on parameters whose value is only assumed.

人数 counts distinct 户编号 for a household program and distinct 证件号码 for a person program; the grand total
counts distinct 证件号码 over all lines. A blank 规则 / 乡镇 / 行政村 means "all". Sums are int64, checked
before they are taken (`check_sum_fits`): a total that would not fit stops the run, it never wraps around.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from subsidy_engine.arrays import sorted_codes, text_codes
from subsidy_engine.errors import EvaluationError
from subsidy_engine.money import fen_text
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.payments import amounts_fen, yuan

TOTAL_COLUMNS = ["项目", "项目名称", "规则", "乡镇", "行政村", "人数", "人次", "金额", "依赖假定参数"]
INT64_MAX = int(np.iinfo(np.int64).max)


def check_sum_fits(fen: np.ndarray) -> None:
    """Every total is a sum of some of these amounts: if the sum of them all fits in int64, no total can wrap
    around (count × largest is the quick bound; the exact sum only when that fails). Roster money is capped
    (a ceiling per cell), so this fails only on a rule gone wrong."""
    if len(fen) == 0:
        return
    largest = max(abs(int(fen.max())), abs(int(fen.min())))
    if largest <= INT64_MAX // len(fen) or sum(abs(x) for x in fen.tolist()) <= INT64_MAX:
        return
    raise EvaluationError(
        f"金额合计超出可精确计算的范围(共 {len(fen)} 笔,单笔最大 {fen_text(largest)} 元);"
        "请核对名册金额与规则参数"
    )


def assumed_by_rule(rulebook: Rulebook, lines: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    """(program, rule) → the assumed parameter values (name@effective date) its lines used."""
    out: dict[tuple[str, str], set[str]] = {}
    if len(lines) == 0:
        return out
    rules = {(p.id, r.id): r for p in rulebook.programs for r in p.rules}
    for (program, rule, ref_date), _ in lines.groupby(["program", "rule", "ref_date"], sort=False):
        d = ref_date if isinstance(ref_date, dt.date) else pd.Timestamp(ref_date).date()
        out.setdefault((program, rule), set()).update(rulebook.assumed(rules[(program, rule)].params, d))
    return out


def _pairs(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Codes of the (a, b) pairs and the pairs themselves, via integer codes of each side (fast)."""
    a_codes, a_uniques = text_codes(a)
    b_codes, b_uniques = text_codes(b)
    width = max(len(b_uniques), 1)
    codes, combined = pd.factorize(a_codes * width + b_codes)
    return np.asarray(codes, dtype=np.int64), [
        (str(a_uniques[c // width]), str(b_uniques[c % width])) for c in combined
    ]


def totals_frame(
    payments: pd.DataFrame, rulebook: Rulebook, assumed: dict[tuple[str, str], set[str]]
) -> pd.DataFrame:
    """Rows in rulebook order: each program overall, by place, then each of its rules overall and by place;
    last the grand total overall and by place. Grouping runs on integer codes of the texts."""
    household_programs = [p.id for p in rulebook.programs if p.entity == "household"]
    rule_codes, rules_of = _pairs(payments["项目"], payments["规则"])
    place_codes, places_of = _pairs(payments["乡镇"], payments["行政村"])
    if "_person" in payments:  # codes payments_frame already has
        id_codes = payments["_person"].to_numpy(dtype=np.int64)
        hh_codes = payments["_household"].to_numpy(dtype=np.int64)
    else:
        id_codes, hh_codes = text_codes(payments["证件号码"])[0], text_codes(payments["户编号"])[0]
    program_of_rule = np.array([p for p, _ in rules_of], dtype=object)
    program_codes, program_names = pd.factorize(program_of_rule)
    by_household = np.isin(program_of_rule, household_programs)[rule_codes]
    # 人数 counts households for a household program, persons otherwise: two code spaces that cannot meet
    who = np.where(by_household, hh_codes, id_codes + (int(hh_codes.max()) + 1 if len(hh_codes) else 0))
    fen = amounts_fen(payments)
    check_sum_fits(fen)
    cols = {
        "prog": np.asarray(program_codes, dtype=np.int64)[rule_codes],
        "r": rule_codes,
        "pl": place_codes,
        "who": who,
        "id": id_codes,
    }
    label: dict[str, Callable[[int], object]] = {"prog": lambda c: str(program_names[c]), "r": int, "pl": int}

    @functools.cache
    def flags_of(rule_set: tuple[int, ...]) -> str:
        return "; ".join(sorted(set().union(*(assumed.get(rules_of[r], set()) for r in rule_set))))

    def flags(rule_set: np.ndarray) -> str:
        return flags_of(tuple(sorted(rule_set.tolist())))

    def block(keys: list[str], count: str = "who") -> dict[tuple[Any, ...], tuple[int, int, int, str]]:
        """人数, 人次, 金额 (integer fen, summed exactly) and assumed values per group of `keys`."""
        if len(fen) == 0:
            return {}
        if not keys:
            return {(): (len(pd.unique(cols[count])), len(fen), int(fen.sum()), flags(pd.unique(rule_codes)))}
        widths = [int(cols[k].max()) + 1 for k in keys]
        group = np.zeros(len(fen), dtype=np.int64)
        for k, w in zip(keys, widths, strict=True):
            group = group * w + cols[k]
        groups, at = sorted_codes(group)
        lines = np.bincount(at, minlength=len(groups))
        order = np.argsort(at, kind="stable")
        sums = np.add.reduceat(fen[order], np.r_[0, np.cumsum(lines)[:-1]])
        w_count = int(cols[count].max()) + 1
        distinct = np.bincount(pd.unique(at * w_count + cols[count]) // w_count, minlength=len(groups))
        w_rule = len(rules_of)
        group_rules = np.sort(pd.unique(at * w_rule + rule_codes))
        starts = np.searchsorted(group_rules // w_rule, np.arange(len(groups) + 1))
        out = {}
        for i, g in enumerate(groups.tolist()):
            key = []
            for k, w in zip(reversed(keys), reversed(widths), strict=True):
                g, c = divmod(g, w)
                key.append(label[k](c))
            rule_set = group_rules[starts[i] : starts[i + 1]] % w_rule
            out[tuple(reversed(key))] = (int(distinct[i]), int(lines[i]), int(sums[i]), flags(rule_set))
        return out

    def by_place(
        stats: dict[tuple[Any, ...], tuple[int, int, int, str]], first: object
    ) -> list[tuple[object, ...]]:
        return [
            (*places_of[k[1]], *v)
            for k, v in sorted(
                ((k, v) for k, v in stats.items() if k[0] == first), key=lambda kv: places_of[kv[0][1]]
            )
        ]

    per_program, per_program_place = block(["prog"]), block(["prog", "pl"])
    per_rule, per_rule_place = block(["r"]), block(["r", "pl"])
    rule_index = {rp: i for i, rp in enumerate(rules_of)}
    empty = (0, 0, 0, "")
    rows: list[tuple[object, ...]] = []
    for prog in rulebook.programs:
        rows.append((prog.id, prog.title, "", "", "", *per_program.get((prog.id,), empty)))
        rows += [(prog.id, prog.title, "", *x) for x in by_place(per_program_place, prog.id)]
        for r in prog.rules:
            code = rule_index.get((prog.id, r.id), -1)
            rows.append((prog.id, r.title, r.id, "", "", *per_rule.get((code,), empty)))
            rows += [(prog.id, r.title, r.id, *x) for x in by_place(per_rule_place, code)]
    rows.append(("", "合计", "", "", "", *block([], "id").get((), empty)))
    grand = block(["pl"], "id")
    rows += [
        ("", "合计", "", *places_of[k[0]], *v)
        for k, v in sorted(grand.items(), key=lambda kv: places_of[kv[0][0]])
    ]
    out = pd.DataFrame(
        rows, columns=["项目", "项目名称", "规则", "乡镇", "行政村", "人数", "人次", "_fen", "依赖假定参数"]
    )
    out["金额"] = yuan(out["_fen"].to_numpy(dtype=np.int64))
    return out[TOTAL_COLUMNS]
