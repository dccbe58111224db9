"""Baseline and reform evaluated by the vectorized engine on the same validated persons, sharing what they can.

The base facts are derived once, and each reference date's facts once for both scenarios. When the reform has
the baseline's programs, rules and definitions (a `--set`, or a second rulebook that changes only values), a
date on which no parameter value differs reuses the baseline's lines; on the other dates only the definitions
and programs that read a changed parameter (directly or through a definition) are evaluated again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from subsidy_engine.engines.contract import month_code, params_at
from subsidy_engine.engines.facts import Base, base_facts, facts_arrays
from subsidy_engine.engines.vectorized import Ctx, Progress, VectorizedEngine
from subsidy_engine.periods import Period
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import Program, Rulebook

Result = tuple[np.ndarray, np.ndarray, np.ndarray]  # person rows, rule index within the program, fen


@dataclass
class Lines:
    """One scenario's payment lines as integer arrays: reference date (index into `dates`), rule (index into
    `rules`, (program id, rule id)), person row, amount in fen."""

    dates: list[dt.date]
    rules: list[tuple[str, str]]
    date: np.ndarray
    rule: np.ndarray
    pos: np.ndarray
    amount: np.ndarray

    def frame(self) -> pd.DataFrame:
        """The engine's line frame (program, rule, month, pos, amount, ref_date), for tests and tools."""
        dates = np.empty(len(self.dates), dtype=object)
        dates[:] = self.dates
        return pd.DataFrame(
            {
                "month": np.array([month_code(d) for d in self.dates], dtype=np.int64)[self.date],
                "program": np.array([p for p, _ in self.rules], dtype=object)[self.rule],
                "rule": np.array([r for _, r in self.rules], dtype=object)[self.rule],
                "pos": self.pos,
                "amount": self.amount,
                "ref_date": dates[self.date],
            }
        )


@dataclass
class _Collector:
    dates: list[dt.date]
    rules: list[tuple[str, str]] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)
    parts: list[tuple[int, int, Result]] = field(default_factory=list)

    def add(self, i: int, program: Program, result: Result) -> None:
        if program.id not in self.offsets:
            self.offsets[program.id] = len(self.rules)
            self.rules += [(program.id, r.id) for r in program.rules]
        self.parts.append((i, self.offsets[program.id], result))

    def lines(self) -> Lines:
        def cat(arrays: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

        return Lines(
            self.dates,
            self.rules,
            cat([np.full(len(r[0]), i, dtype=np.int64) for i, _, r in self.parts]),
            cat([off + r[1] for _, off, r in self.parts]),
            cat([r[0] for _, _, r in self.parts]),
            cat([r[2] for _, _, r in self.parts]),
        )


@dataclass
class Pair:
    baseline: Lines
    reform: Lines
    evaluated: int  # program × date evaluations of the reform
    reused: int  # … taken over from the baseline because no parameter they read differs


def same_structure(a: Rulebook, b: Rulebook) -> bool:
    """Whether b differs from a in parameter values only (same programs, rules, definitions, parameter keys)."""

    def shape(rb: Rulebook) -> object:
        return (
            [(d.name, d.node) for d in rb.definitions],
            [
                (
                    p.id,
                    p.entity,
                    p.schedule,
                    p.hit_policy,
                    [(r.id, r.when, r.amount, r.params) for r in p.rules],
                )
                for p in rb.programs
            ],
            {k: p.key for k, p in rb.params.items()},
        )

    return shape(a) == shape(b)


def changed_params(a: Rulebook, b: Rulebook, d: dt.date) -> set[str]:
    """The parameters whose value in force on d differs between a and b (same parameter names)."""
    return {k for k, p in a.params.items() if p.fen_at(d) != b.params[k].fen_at(d)}


def evaluate_pair(
    persons: pd.DataFrame,
    period: Period,
    baseline: Rulebook,
    reform: Rulebook,
    progress: Progress | None = None,
) -> Pair:
    """Both scenarios' lines, exactly those VectorizedEngine.run gives for each rulebook on its own."""
    baseline.check_period(period)
    reform.check_period(period)
    base = base_facts(persons)
    rows = persons["_row"].to_numpy() if "_row" in persons else None  # roster rows, for error messages
    ea, eb = VectorizedEngine(baseline), VectorizedEngine(reform)
    plan_a, plan_b = ea.schedule(period), eb.schedule(period)
    dates = sorted(set(plan_a) | set(plan_b))
    shared = same_structure(baseline, reform)
    reads = {p.id: set().union(*(r.params for r in p.rules)) for p in baseline.programs}
    a, b = _Collector(dates), _Collector(dates)
    evaluated = reused = 0
    for i, d in enumerate(dates):
        if progress:
            progress("evaluate", i, len(dates))
        facts = facts_arrays(base, d)
        ctx_a = _context(ea, base, facts, d, rows)
        done: dict[str, Result] = {}
        for program in plan_a.get(d, []):
            done[program.id] = ea.evaluate_program(program, ctx_a, d)
            a.add(i, program, done[program.id])
        changed = changed_params(baseline, reform, d) if shared else None
        ctx_b = None
        for program in plan_b.get(d, []):
            if changed is not None and not (reads[program.id] & changed):
                b.add(i, program, done[program.id])
                reused += 1
                continue
            if ctx_b is None:
                like = (ctx_a, changed) if shared else (None, None)
                ctx_b = _context(eb, base, facts, d, rows, *like)
            b.add(i, program, eb.evaluate_program(program, ctx_b, d))
            evaluated += 1
    if progress:
        progress("evaluate", len(dates), len(dates))
    return Pair(a.lines(), b.lines(), evaluated, reused)


def _context(
    engine: VectorizedEngine,
    base: Base,
    facts: dict[str, np.ndarray],
    d: dt.date,
    rows: np.ndarray | None,
    like: Ctx | None = None,
    changed: set[str] | None = None,
) -> Ctx:
    """The engine's context on d from facts computed once; with `like`, the definitions that read none of the
    `changed` parameters (directly or through another definition) are taken from it instead of recomputed."""
    ctx = Ctx(dict(facts), params_at(engine.rulebook, d), base.household, base.n_households, rows)
    dirty: set[str] = set()
    definitions = {x.name: x for x in engine.rulebook.definitions}
    for name, fn in engine.definitions:
        if like is not None and changed is not None:
            node = definitions[name]
            if not (node.params & changed) and not (E.names(node.node) & dirty):
                ctx.facts[name] = like.facts[name]
                continue
            dirty.add(name)
        ctx.facts[name] = np.broadcast_to(fn(ctx), (ctx.n,)).copy()
    return ctx
