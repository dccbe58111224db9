"""Totals of a payment list (SPEC §5): per program and rule, per (乡镇, 行政村) and overall, with 人数, 人次, 金额,
and which totals rest on parameters whose value is only assumed.

人数 counts distinct 户编号 for a household program and distinct 证件号码 for a person program; the grand total
counts distinct 证件号码 over all lines. A blank 规则 / 乡镇 / 行政村 means "all".
"""

from __future__ import annotations

import datetime as dt

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


def totals_frame(payments: pd.DataFrame, rulebook: Rulebook, assumed: dict[tuple[str, str], set[str]]) -> pd.DataFrame:
    household_programs = {p.id for p in rulebook.programs if p.entity == "household"}
    p = pd.DataFrame({
        "项目": payments["项目"].to_numpy(dtype=object),
        "规则": payments["规则"].to_numpy(dtype=object),
        "乡镇": payments["乡镇"].to_numpy(dtype=object),
        "行政村": payments["行政村"].to_numpy(dtype=object),
        "证件号码": payments["证件号码"].to_numpy(dtype=object),
        "_fen": amounts_fen(payments),
    })
    p["_who"] = np.where(p["项目"].isin(household_programs), payments["户编号"].to_numpy(dtype=object), p["证件号码"])

    def stats(keys: list[str], who: str = "_who") -> dict[tuple[object, ...], tuple[int, int, int, str]]:
        if len(p) == 0:
            return {}
        g = p.groupby(keys, sort=True) if keys else None
        if g is None:
            rules = set(zip(p["项目"], p["规则"], strict=True))
            flags = set().union(*[assumed.get(r, set()) for r in rules]) if rules else set()
            return {(): (int(p[who].nunique()), len(p), int(p["_fen"].sum()), "; ".join(sorted(flags)))}
        agg = g.agg(n=(who, "nunique"), c=("_fen", "size"), s=("_fen", "sum"))
        cols = list(dict.fromkeys([*keys, "项目", "规则"]))
        flags: dict[tuple[object, ...], set[str]] = {}
        for combo in p[cols].drop_duplicates().itertuples(index=False, name=None):
            rec = dict(zip(cols, combo, strict=True))
            flags.setdefault(tuple(rec[k] for k in keys), set()).update(assumed.get((rec["项目"], rec["规则"]), set()))
        out = {}
        for k, n, c, s in zip(agg.index, agg["n"], agg["c"], agg["s"], strict=True):
            key = k if isinstance(k, tuple) else (k,)
            out[key] = (int(n), int(c), int(s), "; ".join(sorted(flags.get(key, set()))))
        return out

    prog_all = stats(["项目"])
    prog_place = stats(["项目", "乡镇", "行政村"])
    rule_all = stats(["项目", "规则"])
    rule_place = stats(["项目", "规则", "乡镇", "行政村"])
    rows: list[tuple[object, ...]] = []
    empty = (0, 0, 0, "")
    for prog in rulebook.programs:
        rows.append((prog.id, prog.title, "", "", "", *prog_all.get((prog.id,), empty)))
        rows += [(prog.id, prog.title, "", k[1], k[2], *v) for k, v in prog_place.items() if k[0] == prog.id]
        for r in prog.rules:
            rows.append((prog.id, r.title, r.id, "", "", *rule_all.get((prog.id, r.id), empty)))
            rows += [(prog.id, r.title, r.id, k[2], k[3], *v) for k, v in rule_place.items()
                     if k[0] == prog.id and k[1] == r.id]
    rows.append(("", "合计", "", "", "", *stats([], "证件号码").get((), empty)))
    rows += [("", "合计", "", k[0], k[1], *v) for k, v in stats(["乡镇", "行政村"], "证件号码").items()]
    out = pd.DataFrame(rows, columns=["项目", "项目名称", "规则", "乡镇", "行政村", "人数", "人次", "_fen", "依赖假定参数"])
    out["金额"] = yuan(out["_fen"].to_numpy(dtype=np.int64))
    return out[TOTAL_COLUMNS]
