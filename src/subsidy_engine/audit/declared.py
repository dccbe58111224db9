"""The rulebook's declared findings (its findings file), evaluated by the vectorized engine on the run's facts.

Three kinds (rulebook/files.Finding): a definition's condition that fails while its other conditions hold,
checked on the first day of every month of the period on the rows of the program at risk; payment lines of
some programs whose person meets a condition at the line's reference date; and persons who meet a condition
at the start of the period. One finding per person (or household) and code, listing the months and adding up
the amount at risk of the lines paid (the computed lines when no paid list is given, except `paid_only`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from subsidy_engine.audit.lines import Finding, months_text, reference_days
from subsidy_engine.engines.facts import Base, base_facts
from subsidy_engine.engines.slots import fill
from subsidy_engine.engines.vectorized import Ctx, VectorizedEngine
from subsidy_engine.periods import Period
from subsidy_engine.roster import cells
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import CompiledFinding, Rulebook
from subsidy_engine.rulebook.template import Template


class Declared:
    """The findings of one rulebook over one run's accepted persons."""

    def __init__(self, rulebook: Rulebook, persons: pd.DataFrame, period: Period) -> None:
        self.rulebook = rulebook
        self.persons = persons
        self.period = period
        self.engine = VectorizedEngine(rulebook)
        self.base: Base = base_facts(persons)
        self._ctx: dict[dt.date, Ctx] = {}
        self._compiled: dict[int, Callable[[Ctx], Any]] = {}

    def findings(self, paid: pd.DataFrame | None, computed: pd.DataFrame) -> list[Finding]:
        if len(self.persons) == 0:
            return []
        out: list[Finding] = []
        for f in self.rulebook.findings:
            if f.kind == "condition":
                out += self._condition(f, paid)
            elif f.kind == "person":
                out += self._person(f, paid)
            elif paid is not None or not f.paid_only:
                out += self._lines(f, paid if paid is not None else computed, paid is not None)
        return out

    # --- evaluation ---------------------------------------------------------------------------------------

    def ctx(self, d: dt.date) -> Ctx:
        if d not in self._ctx:
            self._ctx[d] = self.engine.context(self.base, d)
        return self._ctx[d]

    def value(self, node: Any, d: dt.date) -> np.ndarray:
        fn = self._compiled.get(id(node))
        if fn is None:
            fn = self._compiled[id(node)] = self.engine.compiler.compile(node)
        return np.broadcast_to(fn(self.ctx(d)), (len(self.persons),))

    def entity_rows(self, program_id: str) -> np.ndarray:
        household = self.rulebook.program(program_id).entity == "household"
        return self.base.frame["is_head"].to_numpy() if household else np.ones(len(self.persons), dtype=bool)

    def render(self, t: Template, pos: int, d: dt.date, context: dict[str, str] | None = None) -> str:
        return fill(t, _At(self, pos, d), context)

    # --- the three kinds ----------------------------------------------------------------------------------

    def _condition(self, f: CompiledFinding, paid: pd.DataFrame | None) -> list[Finding]:
        assert f.program is not None and f.failed is not None
        rows = self.entity_rows(f.program)
        hits: dict[int, list[tuple[str, str]]] = {}  # row -> [(month, evidence)]
        for y, m in self.period.months:
            d = dt.date(y, m, 1)
            mask = rows & ~self.value(f.failed, d)
            for g in f.gate:
                mask = mask & self.value(g, d)
            for row in map(int, np.flatnonzero(mask)):
                hits.setdefault(row, []).append((f"{y:04d}-{m:02d}", self.render(f.evidence, row, d)))
        out: list[Finding] = []
        for pos, months in sorted(hits.items()):
            by_detail: dict[str, list[str]] = {}
            for month, detail in months:
                by_detail.setdefault(detail, []).append(month)
            text = ";".join(f"{detail}({months_text(ms)})" for detail, ms in by_detail.items())
            if f.subject is not None:
                text = self.render(f.subject, pos, self.period.start) + ";" + text
            at_risk = self._at_risk(paid, f.program, pos, [m for m, _ in months])
            out.append((f.code, self._hh(pos), self._pid(pos), text, at_risk))
        return out

    def _person(self, f: CompiledFinding, paid: pd.DataFrame | None) -> list[Finding]:
        assert f.program is not None
        d = self.period.start
        out: list[Finding] = []
        for pos in map(int, np.flatnonzero(self.value(f.when, d))):
            text = self.render(f.evidence, pos, d)
            months: list[str] | None = None
            if paid is not None and f.stacked_with is not None:
                mine = (paid["项目"] == f.stacked_with) & (paid["证件号码"] == self._pid(pos))
                months = sorted(set(paid.loc[mine, "发放月份"]))
            at_risk = self._at_risk(paid, f.program, pos, months)
            if months and at_risk and f.stacked_evidence is not None:
                sel = self._lines_of(paid, f.program, pos, months)  # type: ignore[arg-type]
                text += ";" + self.render(
                    f.stacked_evidence, pos, d, {"months": months_text(sel["发放月份"])}
                )
            out.append((f.code, self._hh(pos), self._pid(pos), text, at_risk))
        return out

    def _lines(self, f: CompiledFinding, lines: pd.DataFrame, from_paid: bool) -> list[Finding]:
        ids = self.persons["id_number"].astype(str)
        where = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
        sel = lines[lines["项目"].isin(f.lines) & lines["证件号码"].isin(where.index)].reset_index(drop=True)
        if not len(sel):
            return []
        pos = where.loc[sel["证件号码"].to_numpy()].to_numpy()
        ref = reference_days(sel, self.rulebook)
        hit = np.zeros(len(sel), dtype=bool)
        for day in np.unique(ref):
            at = ref == day
            hit[at] = self.value(f.when, cells.from_day_number(int(day)))[pos[at]]
        sel, pos = sel[hit].assign(_pos=pos[hit]), pos[hit]
        out: list[Finding] = []
        by_household = {p: self.rulebook.program(p).entity == "household" for p in f.lines}
        for (_, program), g in sel.groupby(
            [sel["户编号"].where(sel["项目"].map(by_household), sel["证件号码"]), "项目"]
        ):
            first = int(g["_pos"].iat[0])
            context = {
                "program": self.rulebook.program(str(program)).title,  # the title a person reads
                "months": months_text(g["发放月份"]),
                "source": "实发" if from_paid else "应发",
            }
            text = self.render(f.evidence, first, self.period.start, context)
            out.append(
                (f.code, str(g["户编号"].iat[0]), str(g["证件号码"].iat[0]), text, int(g["_fen"].sum()))
            )
        return out

    # --- helpers ------------------------------------------------------------------------------------------

    def _hh(self, pos: int) -> str:
        return str(self.persons["household_id"].iat[pos])

    def _pid(self, pos: int) -> str:
        return str(self.persons["id_number"].iat[pos])

    def _lines_of(self, paid: pd.DataFrame, program: str, pos: int, months: list[str] | None) -> pd.DataFrame:
        household = self.rulebook.program(program).entity == "household"
        sel = (paid["项目"] == program) & (
            (paid["户编号"] == self._hh(pos)) if household else (paid["证件号码"] == self._pid(pos))
        )
        if months is not None:
            sel &= paid["发放月份"].isin(months)
        return paid[sel]

    def _at_risk(self, paid: pd.DataFrame | None, program: str, pos: int, months: list[str] | None) -> int:
        if paid is None or (months is not None and not months):
            return 0
        return int(self._lines_of(paid, program, pos, months)["_fen"].sum())


class _At:
    """One person of the run at one date, as a template's values (engines/slots.Source)."""

    def __init__(self, declared: Declared, pos: int, d: dt.date) -> None:
        self.declared, self.pos, self.d = declared, pos, d
        self.persons = declared.persons

    def value(self, node: E.Node) -> Any:
        return self.declared.value(node, self.d)[self.pos]

    def members(self, node: E.Node) -> list[int]:
        base = self.declared.base
        mask = self.declared.value(node, self.d) & (base.household == base.household[self.pos])
        return [int(i) for i in np.flatnonzero(mask)]
