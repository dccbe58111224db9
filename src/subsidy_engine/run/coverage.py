"""Rule coverage: what the rule test cases exercise — rules, conditions, decision-table rows, parameter periods.

Each case is evaluated with the vectorized engine on its own roster and period; only the programs the case
checks count. A rule is exercised when it pays a line; a decision-table row (one key of a keyed parameter) and
a parameter period (one dated value) when a paid line's amount used it (a parameter that no amount reads counts
through the lines of the rules whose conditions read it). Conditions — each rule's `when`, each definition,
and their top-level `and` / `or` parts — are reported with how often they were seen true and false; a condition
seen one way only is shown but is not a gap.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from subsidy_engine.cli.texttable import table
from subsidy_engine.engines.facts import base_facts
from subsidy_engine.engines.vectorized import Ctx, VectorizedEngine
from subsidy_engine.errors import RulebookError
from subsidy_engine.periods import parse_period
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import CompiledRule, Program, Rulebook
from subsidy_engine.rulebook.vocabulary import FIELDS
from subsidy_engine.run.cases import RuleCase, household_rows

DEFAULT_CASES = Path(__file__).resolve().parents[3] / "tests" / "rules"  # in a source checkout


@dataclass
class Coverage:
    rulebook: Rulebook
    cases: int = 0
    fired: Counter[tuple[str, str]] = field(default_factory=Counter)  # (program, rule) → condition true
    paid: Counter[tuple[str, str]] = field(default_factory=Counter)  # (program, rule) → lines
    rows: Counter[tuple[str, str]] = field(default_factory=Counter)  # (parameter, key value) → lines
    periods: Counter[tuple[str, dt.date]] = field(default_factory=Counter)  # (parameter, first day) → lines
    # (where, condition text) → [times true, times false], in rulebook order
    conditions: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def required_rules(self) -> list[tuple[str, str]]:
        return [(p.id, r.id) for p in self.rulebook.programs for r in p.rules]

    def required_rows(self) -> list[tuple[str, str]]:
        out = []
        for name, p in self.rulebook.params.items():
            keys: list[str] = []
            for _, entry in p.entries:
                if entry is not None and isinstance(entry.value, dict):
                    keys += [k for k in entry.value if k not in keys]
            out += [(name, k) for k in keys]
        return out

    def required_periods(self) -> list[tuple[str, dt.date]]:
        return [(name, d) for name, p in self.rulebook.params.items() for d, e in p.entries if e is not None]

    def gaps(self) -> list[str]:
        """What no case exercises, in words: the reasons `rules coverage` fails."""
        out = [f"规则 {r}(项目 {p})从未发放" for p, r in self.required_rules() if not self.paid[(p, r)]]
        out += [f"决策表 {n} 的行 {k} 从未使用" for n, k in self.required_rows() if not self.rows[(n, k)]]
        out += [
            f"参数 {n} 自 {d} 起的取值从未使用"
            for n, d in self.required_periods()
            if not self.periods[(n, d)]
        ]
        return out

    def one_sided(self) -> list[tuple[str, str, int, int]]:
        return [(w, c, t, f) for (w, c), (t, f) in self.conditions.items() if not (t and f)]


class _Collector:
    """Evaluates cases and counts what they exercise."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rb = rulebook
        self.engine = VectorizedEngine(rulebook)
        self.cov = Coverage(rulebook)
        defs = {d.name: d for d in rulebook.definitions}
        self.value_defs = {n: d for n, d in defs.items() if d.type.kind != "bool"}
        amount_params = {
            (p.id, r.id): self._amount_params(r.amount) for p in rulebook.programs for r in p.rules
        }
        read_by_amounts = set().union(*amount_params.values()) if amount_params else set()
        self.line_params = {
            (p.id, r.id): amount_params[(p.id, r.id)] | (r.params - read_by_amounts)
            for p in rulebook.programs
            for r in p.rules
        }
        self.definition_parts = [
            (f"定义 {d.name}", _parts(d.node)) for d in rulebook.definitions if d.type.kind == "bool"
        ]
        self.rule_parts = {(p.id, r.id): _parts(r.when) for p in rulebook.programs for r in p.rules}
        for where, parts in self.definition_parts:
            for node in parts:
                self.cov.conditions[(where, E.render(node))] = [0, 0]
        for p in rulebook.programs:
            for r in p.rules:
                for node in self.rule_parts[(p.id, r.id)]:
                    self.cov.conditions[(f"规则 {r.id}", E.render(node))] = [0, 0]

    def _amount_params(self, node: E.Node) -> set[str]:
        """Parameters an amount reads, directly or through the count definitions it names."""
        out: set[str] = set()
        todo, seen = [node], set()
        while todo:
            n = todo.pop()
            for name in E.names(n):
                if name in self.rb.params:
                    out.add(name)
                elif name in self.value_defs and name not in seen:
                    seen.add(name)
                    todo.append(self.value_defs[name].node)
        return out

    def add(self, case: RuleCase) -> None:
        checked = validate(roster_from_records(household_rows(case.households)))
        if checked.rows_rejected:
            raise RulebookError(f"用例 {case.name!r} 的名册有被拒绝的行", file=str(case.file))
        period = parse_period(case.period)
        self.rb.check_period(period)
        base = base_facts(checked.persons)
        self.cov.cases += 1
        for d, programs in self.engine.schedule(period).items():
            mine = [p for p in programs if case.programs is None or p.id in case.programs]
            if not mine:
                continue
            ctx = self.engine.context(base, d)
            everyone = np.ones(ctx.n, dtype=bool)
            for where, parts in self.definition_parts:
                for node in parts:
                    self._seen(where, node, ctx, everyone)
            for program in mine:
                self._program(program, ctx, d)

    def _seen(self, where: str, node: E.Node, ctx: Ctx, rows: np.ndarray) -> np.ndarray:
        value = np.broadcast_to(self.engine.compiler.compile(node)(ctx), (ctx.n,))[rows]
        counts = self.cov.conditions[(where, E.render(node))]
        counts[0] += int(value.sum())
        counts[1] += int((~value).sum())
        return value

    def _program(self, program: Program, ctx: Ctx, d: dt.date) -> None:
        entity = ctx.col("is_head") if program.entity == "household" else np.ones(ctx.n, dtype=bool)
        for rule in program.rules:
            key = (program.id, rule.id)
            for node in self.rule_parts[key][1:]:
                self._seen(f"规则 {rule.id}", node, ctx, entity)
            self.cov.fired[key] += int(self._seen(f"规则 {rule.id}", rule.when, ctx, entity).sum())
        idx, rule_k, _ = self.engine.evaluate_program(program, ctx, d)
        for pos, k in zip(idx.tolist(), rule_k.tolist(), strict=True):
            self._line(program, program.rules[k], ctx, d, pos)

    def _line(self, program: Program, rule: CompiledRule, ctx: Ctx, d: dt.date, pos: int) -> None:
        self.cov.paid[(program.id, rule.id)] += 1
        for name in self.line_params[(program.id, rule.id)]:
            p = self.rb.params[name]
            hit = p.entry_at(d)
            if hit is not None:
                self.cov.periods[(name, hit[0])] += 1
            if p.key is not None:
                code = int(ctx.col(p.key)[pos])
                if code >= 0:
                    self.cov.rows[(name, FIELDS[p.key].values[code])] += 1


def _parts(node: E.Node) -> list[E.Node]:
    """A condition and, if it is an `and` / `or`, each of its top-level parts."""
    return [node, *node.items] if isinstance(node, E.And | E.Or) else [node]


def measure(rulebook: Rulebook, cases: list[RuleCase]) -> Coverage:
    collector = _Collector(rulebook)
    for case in cases:
        collector.add(case)
    return collector.cov


def report(cov: Coverage, cases_dir: Path) -> str:
    """The coverage report a caseworker or developer reads: totals first, then every item with its counts."""
    rules, rows, periods = cov.required_rules(), cov.required_rows(), cov.required_periods()
    ok_rules = sum(1 for r in rules if cov.paid[r])
    ok_rows = sum(1 for r in rows if cov.rows[r])
    ok_periods = sum(1 for p in periods if cov.periods[p])
    both = sum(1 for t, f in cov.conditions.values() if t and f)
    out = [
        f"规则覆盖: 规则库 {cov.rulebook.name},用例 {cov.cases} 个(目录 {cases_dir})",
        f"规则 {ok_rules}/{len(rules)} 条发放过;决策表行 {ok_rows}/{len(rows)} 行用过;"
        f"参数期间 {ok_periods}/{len(periods)} 个用过;条件 {both}/{len(cov.conditions)} 个真假都出现过",
        "",
        "规则:",
        table(
            [["项目", "规则", "条件成立(次)", "发放(行)"]]
            + [[p, r, str(cov.fired[(p, r)]), str(cov.paid[(p, r)])] for p, r in rules],
            right={2, 3},
        ),
        "",
        "决策表行:",
        table([["参数", "行", "使用(行)"]] + [[n, k, str(cov.rows[(n, k)])] for n, k in rows], right={2}),
        "",
        "参数期间:",
        table(
            [["参数", "生效日期", "使用(行)"]] + [[n, str(d), str(cov.periods[(n, d)])] for n, d in periods],
            right={2},
        ),
        "",
        "条件(真 / 假 的次数):",
        table(
            [["位置", "条件", "真", "假"]]
            + [[w, c, str(t), str(f)] for (w, c), (t, f) in cov.conditions.items()],
            right={2, 3},
        ),
    ]
    one_sided = cov.one_sided()
    if one_sided:
        out += ["", f"只出现过一种取值的条件 {len(one_sided)} 个(提示,不算缺口):"]
        out += [f"  {w}: {c}(只为{'真' if t else '假'})" for w, c, t, _ in one_sided]
    gaps = cov.gaps()
    out += ["", f"未覆盖 {len(gaps)} 项:" if gaps else "规则、决策表行和参数期间全部覆盖。"]
    out += [f"  {g}" for g in gaps]
    return "\n".join(out) + "\n"
