"""A rulebook's `when`s compiled to one durable-rules ruleset, checked against the engine's limits.

Negation is pushed down to the leaves; a comparison whose side is not a plain field reads a value the scalar
evaluator put into the fact. At most 64 rules per fact and 31 conditions per pattern (durable-rules fails
beyond them), checked here; a catch-all rule, so that no fact is ever unhandled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subsidy_engine.engines.rete import host
from subsidy_engine.engines.scalar import Scalar
from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import Rulebook

MAX_RULES_PER_FACT = 64  # durable-rules fails at assert time beyond ~64 rules matching one fact
MAX_CONDITIONS = 31  # 32 or more conditions in one pattern fail at load


NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
DOLLAR = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


class PatternCompiler:
    """`when` AST → a durable-rules pattern on one fact. Negation is pushed down to the leaves; a comparison
    whose side is not a plain field (a parameter, a lookup, arithmetic) reads a value the scalar evaluator
    put into the fact (`computed`), so the comparison itself still happens inside the engine."""

    def __init__(self, scalar: Scalar) -> None:
        self.scalar = scalar
        self.computed: dict[str, E.Node] = {}
        self.fields: set[str] = set()

    def field(self, node: E.Node) -> str:
        if isinstance(node, E.Name) and node.name not in self.scalar.params:
            self.fields.add(node.name)
            return node.name
        for name, known in self.computed.items():
            if known == node:
                return name
        name = f"x_{len(self.computed)}"
        self.computed[name] = node
        return name

    def fact_value(self, lit: E.Lit, t: Any) -> Any:
        v = self.scalar.literal(lit, t)
        return "" if v is None else v  # a blank enum is "" in a fact (no JSON null reaches the engine)

    def leaf(self, op: str, field: str, value: Any) -> dict[str, Any]:
        return {field: value} if op == "==" else {DOLLAR[op]: {field: value}}

    def compile(self, node: E.Node, positive: bool = True) -> dict[str, Any]:
        if isinstance(node, E.And | E.Or):
            conj = isinstance(node, E.And) == positive
            parts = [self.compile(i, positive) for i in node.items]
            return parts[0] if len(parts) == 1 else {"$and" if conj else "$or": parts}
        if isinstance(node, E.Not):
            return self.compile(node.item, not positive)
        if isinstance(node, E.Lit) and isinstance(node.value, bool):
            return {"c": 1 if node.value == positive else 0}  # every fact has c = 1
        if isinstance(node, E.Compare):
            return self._compare(node, positive)
        if isinstance(node, E.InList):
            t = self.scalar.type_of(node.item)
            f = self.field(node.item)
            member = positive != node.negated
            parts = [self.leaf("==" if member else "!=", f, self.fact_value(v, t)) for v in node.values]
            return parts[0] if len(parts) == 1 else {"$or" if member else "$and": parts}
        # a boolean field or definition (or, defensively, anything else the scalar evaluator computes)
        return {self.field(node): positive}

    def _compare(self, node: E.Compare, positive: bool) -> dict[str, Any]:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, E.Lit) and not isinstance(right, E.Lit):
            left, right, op = right, left, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        if isinstance(left, E.Lit):
            return {self.field(node): positive}
        t = self.scalar.type_of(left)
        f = self.field(left)
        if not isinstance(right, E.Lit):
            other = {"$m": self.field(right)}
            return self.leaf(op if positive else NEGATED[op], f, other)
        value = self.fact_value(right, t)
        if right.value is not None and t is not None and t.kind == "int" and t.nullable and op != "!=":
            # blank (0) compares false, as in engine_vectorized
            if positive:
                return {"$and": [self.leaf("!=", f, 0), self.leaf(op, f, value)]}
            return {"$or": [self.leaf("==", f, 0), self.leaf(NEGATED[op], f, value)]}
        return self.leaf(op if positive else NEGATED[op], f, value)


def count_conditions(pattern: Any) -> int:
    if isinstance(pattern, dict):
        if set(pattern) & {"$and", "$or"}:
            return sum(count_conditions(p) for v in pattern.values() for p in v)
        return 1
    return 0


@dataclass
class CompiledRules:
    name: str
    definition: dict[str, Any]
    computed: dict[str, E.Node]
    fields: list[str]
    rule_keys: dict[str, tuple[int, int]]  # ruleset rule name → (program index, rule index)


def compile_rulesets(rulebook: Rulebook, scalar: Scalar) -> CompiledRules:
    """The one ruleset of a rulebook: per rule, its program's schedule flag (+ 户主 for household programs)
    and its `when`; plus a catch-all, so that no fact is ever unhandled."""
    pc = PatternCompiler(scalar)
    rules: dict[str, Any] = {}
    keys: dict[str, tuple[int, int]] = {}
    for pi, program in enumerate(rulebook.programs):
        for ri, rule in enumerate(program.rules):
            parts = [{f"on_{program.id}": True}]
            if program.entity == "household":
                parts.append({"is_head": True})
            parts.append(pc.compile(rule.when))
            pattern = {"$and": parts}
            n = count_conditions(pattern)
            if n > MAX_CONDITIONS:
                raise RulebookError(
                    f"规则 {rule.id} 的条件在 rete 引擎中展开为 {n} 个比较,超过上限 {MAX_CONDITIONS};请拆分规则",
                    file=program.file,
                    key=rule.id,
                )
            key = f"r{pi}_{ri}"
            rules[key] = {"all": [{"m": pattern}], "run": _record(key)}
            keys[key] = (pi, ri)
    if len(rules) + 1 > MAX_RULES_PER_FACT:
        raise RulebookError(
            f"规则库共 {len(rules)} 条规则,rete 引擎每个事实最多 {MAX_RULES_PER_FACT - 1} 条;请精简规则",
            file=str(rulebook.folder),
        )
    rules["catch_all"] = {"all": [{"m": {"c": 1}}], "run": _ignore}
    name = f"subsidy_{rulebook.content_hash[:16]}"
    return CompiledRules(name, {name: rules}, pc.computed, sorted(pc.fields), keys)


def _record(key: str) -> Any:
    def run(c: Any) -> None:
        host.SINK.append((c.m.id, key))

    return run


def _ignore(c: Any) -> None:
    return None
