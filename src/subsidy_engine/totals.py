"""Totals of a payment list (SPEC §5): per program and rule, per (乡镇, 行政村) and overall, with 人数, 人次, 金额,
and which totals rest on parameters whose value is only assumed.

人数 counts distinct 户编号 for a household program and distinct 证件号码 for a person program; the grand total
counts distinct 证件号码 over all lines. A blank 规则 / 乡镇 / 行政村 means "all".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from .payments import amounts_fen, yuan
from .rulebook import Rulebook

TOTAL_COLUMNS = ["项目", "项目名称", "规则", "乡镇", "行政村", "人数", "人次", "金额", "依赖假定参数"]


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


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Codes of the (a, b) pairs and the pairs themselves, via integer codes of each side (fast)."""
    a_codes, a_uniques = pd.factorize(a)
    b_codes, b_uniques = pd.factorize(b)
    codes, combined = pd.factorize(a_codes.astype(np.int64) * max(len(b_uniques), 1) + b_codes)
    width = max(len(b_uniques), 1)
    return codes, [(str(a_uniques[c // width]), str(b_uniques[c % width])) for c in combined]


def totals_frame(
    payments: pd.DataFrame, rulebook: Rulebook, assumed: dict[tuple[str, str], set[str]]
) -> pd.DataFrame:
    """Rows in rulebook order: each program overall, by place, then each of its rules overall and by place;
    last the grand total overall and by place. Grouping runs on integer codes of the texts."""
    household_programs = [p.id for p in rulebook.programs if p.entity == "household"]
    program = payments["项目"].to_numpy(dtype=object)
    rule = payments["规则"].to_numpy(dtype=object)
    ids = payments["证件号码"].to_numpy(dtype=object)
    who = np.where(np.isin(program, household_programs), payments["户编号"].to_numpy(dtype=object), ids)
    rule_codes, rules_of = _pairs(program, rule)
    place_codes, places_of = _pairs(
        payments["乡镇"].to_numpy(dtype=object), payments["行政村"].to_numpy(dtype=object)
    )
    frame = pd.DataFrame(
        {
            "prog": [rules_of[c][0] for c in rule_codes] if len(rule_codes) else [],
            "r": rule_codes,
            "pl": place_codes,
            "who": pd.factorize(who)[0],
            "id": pd.factorize(ids)[0],
            "fen": amounts_fen(payments),
        }
    )

    def block(keys: list[str], count: str = "who") -> dict[tuple[Any, ...], tuple[int, int, int, str]]:
        if len(frame) == 0:
            return {}
        if not keys:
            flags = set().union(*(assumed.get(rules_of[r], set()) for r in np.unique(frame["r"])))
            return {
                (): (
                    int(frame[count].nunique()),
                    len(frame),
                    int(frame["fen"].sum()),
                    "; ".join(sorted(flags)),
                )
            }
        agg = frame.groupby(keys, sort=False).agg(n=(count, "nunique"), c=("fen", "size"), s=("fen", "sum"))
        used: dict[tuple[object, ...], set[str]] = {}
        for combo in frame[[*keys, "r"]].drop_duplicates().itertuples(index=False, name=None):
            used.setdefault(tuple(combo[:-1]), set()).update(assumed.get(rules_of[combo[-1]], set()))
        out = {}
        for k, n, c, s in zip(agg.index, agg["n"], agg["c"], agg["s"], strict=True):
            key = k if isinstance(k, tuple) else (k,)
            out[key] = (int(n), int(c), int(s), "; ".join(sorted(used.get(key, set()))))
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
