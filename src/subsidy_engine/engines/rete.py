"""The rete engine: each rule's `when` compiled to a durable-rules ruleset, evaluated one household at a time.

It is the independent cross-check of engine_vectorized.py and the basis of `explain` (docs/design.md §3). Only the
date-level facts (alive, age, … from facts.py) are shared; definitions and amounts come from the scalar
evaluator (scalar.py), and which rules match is decided by durable-rules. The only module importing `durable`.

Pitfalls guarded (docs/durable-rules.md): facts, never events; a Host without background threads; one
session per household, deleted after it (≤ 1,024 live sessions, flat memory); explicit ASCII fact ids checked
for 32-bit hash collisions before asserting; `state["exception"]` checked after every household; at most
64 rules per fact and 31 conditions per pattern, checked when compiling; a catch-all rule; money never inside
the engine; real Python ints/bools/strings only. Rulesets are registered once per process.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd
from durable.engine import Host, MessageNotHandledException, MessageObservedException

from subsidy_engine.engines.contract import (
    choose,
    month_code,
    negative_amount,
    params_at,
    person_named,
    schedule,
)
from subsidy_engine.engines.facts import base_facts, facts_at
from subsidy_engine.engines.scalar import Params, Row, Scalar, fact_rows
from subsidy_engine.engines.vectorized import LINE_COLUMNS, Progress
from subsidy_engine.errors import EvaluationError, RulebookError
from subsidy_engine.periods import Period
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import Program, Rulebook

MAX_RULES_PER_FACT = 64  # durable-rules fails at assert time beyond ~64 rules matching one fact
MAX_CONDITIONS = 31  # 32 or more conditions in one pattern fail at load
PARALLEL_MIN_HOUSEHOLDS = 2_000  # below this a pool costs more than it saves


class _QuietHost(Host):  # type: ignore[misc]
    """A Host that starts no background threads: actions run inside assert_facts, nothing races."""

    def _run(self) -> None:
        pass


_HOST: tuple[int, _QuietHost] | None = None
_REGISTERED: set[str] = set()
_SINK: list[tuple[str, str]] = []  # (fact id, rule key) appended by the actions of the current household


def host() -> _QuietHost:
    """This process's Host, created on first use (after any fork: the pid is checked)."""
    global _HOST
    if _HOST is None or _HOST[0] != os.getpid():
        _HOST = (os.getpid(), _QuietHost())
        _REGISTERED.clear()
    return _HOST[1]


def fact_hash(text: str) -> int:
    """durable-rules' fact identity: 32-bit FNV-1a over the id's UTF-8 bytes, as C `char` (signed)."""
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ (b if b < 0x80 else (b - 0x100) & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
    return h


def check_fact_ids(ids: list[str], hash_fn: Any = fact_hash) -> None:
    """Refuse a session whose fact ids collide in durable-rules' 32-bit hash (the engine would drop one)."""
    seen: dict[int, str] = {}
    for i in ids:
        h = hash_fn(i)
        other = seen.get(h)
        if other is not None and other != i:
            raise EvaluationError(f"rete 引擎事实标识哈希冲突: {other!r} 与 {i!r}(同一会话内);请缩小会话")
        if other == i:
            raise EvaluationError(f"rete 引擎事实标识重复: {i!r}")
        seen[h] = i


# --- compiling `when` to durable-rules patterns -------------------------------------------------------------

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
        _SINK.append((c.m.id, key))

    return run


def _ignore(c: Any) -> None:
    return None


# --- evaluation ---------------------------------------------------------------------------------------------


class ReteEngine:
    """Same interface and lines as VectorizedEngine: run(persons, period) → DataFrame[LINE_COLUMNS]."""

    name = "rete"

    def __init__(self, rulebook: Rulebook, processes: int | None = None) -> None:
        self.rulebook = rulebook
        self.scalar = Scalar(rulebook)
        self.compiled = compile_rulesets(rulebook, self.scalar)
        self.processes = processes or os.cpu_count() or 1
        self.amount_fns = [[self.scalar.fn(r.amount) for r in p.rules] for p in rulebook.programs]
        self._sid = 0

    def ensure_registered(self) -> _QuietHost:
        h = host()
        if self.compiled.name not in _REGISTERED:
            h.set_rulesets(copy.deepcopy(self.compiled.definition))  # set_rulesets mutates its argument
            _REGISTERED.add(self.compiled.name)
        return h

    def schedule(self, period: Period) -> list[tuple[dt.date, list[int]]]:
        return list(schedule(self.rulebook, period).items())

    def run(self, persons: pd.DataFrame, period: Period, progress: Progress | None = None) -> pd.DataFrame:
        self.rulebook.check_period(period)
        codes, _ = pd.factorize(persons["household_id"].to_numpy(dtype=object))
        order = np.argsort(codes, kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        groups = np.split(order, bounds) if len(order) else []
        n_proc = self.processes if len(groups) >= PARALLEL_MIN_HOUSEHOLDS else 1
        size = max(1, -(-len(groups) // (n_proc * 8)))
        chunks = [np.concatenate(groups[i : i + size]) for i in range(0, len(groups), size)]
        payloads = [(persons.iloc[c].reset_index(drop=True), c, period) for c in chunks]
        parts: list[pd.DataFrame] = []
        if n_proc == 1:
            for i, payload in enumerate(payloads):
                if progress:
                    progress("evaluate", i, len(payloads))
                parts.append(self.run_chunk(*payload))
        else:
            ctx = get_context("fork")  # each worker creates its own Host in _init, after the fork
            with ProcessPoolExecutor(
                n_proc, mp_context=ctx, initializer=_init, initargs=(self.rulebook,)
            ) as ex:
                for i, part in enumerate(ex.map(_work, payloads)):
                    if progress:
                        progress("evaluate", i, len(payloads))
                    parts.append(part)
        if progress:
            progress("evaluate", len(payloads), len(payloads))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})
        lines = pd.concat(parts, ignore_index=True)
        return lines.sort_values(["month", "program", "pos", "rule"], kind="stable", ignore_index=True)

    def run_chunk(self, persons: pd.DataFrame, positions: np.ndarray, period: Period) -> pd.DataFrame:
        """Lines of a chunk of whole households; `pos` refers to rows of the full roster."""
        self.ensure_registered()
        base = base_facts(persons)
        plan = self.schedule(period)
        dated = [(d, pis, params_at(self.rulebook, d), fact_rows(facts_at(base, d))) for d, pis in plan]
        hh = persons["household_id"].to_numpy(dtype=object)
        members: dict[Any, list[int]] = {}
        for i, h in enumerate(hh):
            members.setdefault(h, []).append(i)
        pos = positions.tolist()
        roster_rows = persons["_row"].tolist() if "_row" in persons else None
        out: list[tuple[Any, ...]] = []
        for idx in members.values():
            out += self.household(
                [(d, pis, params, [rows[i] for i in idx]) for d, pis, params, rows in dated],
                [pos[i] for i in idx],
                [roster_rows[i] for i in idx] if roster_rows is not None else None,
            )
        return pd.DataFrame(out, columns=LINE_COLUMNS)

    def household(
        self,
        dated: list[tuple[dt.date, list[int], Params, list[Row]]],
        positions: list[int],
        roster_rows: list[int] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Evaluate one household on every reference date: one durable-rules session, deleted after."""
        h = self.ensure_registered()
        self._sid += 1
        sid = f"h{self._sid}"
        facts: list[dict[str, Any]] = []
        where: dict[str, tuple[int, int]] = {}  # fact id → (date index, member index)
        flags = [f"on_{p.id}" for p in self.rulebook.programs]
        for di, (d, pis, params, rows) in enumerate(dated):
            self.scalar.add_definitions(rows, params)
            on = {flags[pi]: (pi in pis) for pi in range(len(flags))}
            for mi, row in enumerate(rows):
                fid = f"{positions[mi]}@{d.isoformat()}"
                fact: dict[str, Any] = {"sid": sid, "id": fid, "c": 1, "is_head": row["is_head"], **on}
                for f in self.compiled.fields:
                    fact[f] = "" if row[f] is None else row[f]
                for f, node in self.compiled.computed.items():
                    fact[f] = self.scalar.value(node, row, rows, params)
                facts.append(fact)
                where[fid] = (di, mi)
        check_fact_ids(list(where))
        _SINK.clear()
        try:
            h.assert_facts(self.compiled.name, facts)
            state = h.get_state(self.compiled.name, sid)
        except (MessageNotHandledException, MessageObservedException) as e:
            # their text is the whole input: never show it, name the kind and the household's first row
            raise EvaluationError(
                f"rete 引擎拒绝了事实({type(e).__name__},户内第一人 {positions[0]});这是引擎缺陷"
            ) from None
        finally:
            h.delete_state(self.compiled.name, sid)
        if state.get("exception"):
            raise EvaluationError(f"rete 引擎规则动作出错(户内第一人 {positions[0]}): {state['exception']}")
        return self.lines(dated, positions, [(where[fid], key) for fid, key in _SINK], roster_rows)

    def lines(
        self,
        dated: list[tuple[dt.date, list[int], Params, list[Row]]],
        positions: list[int],
        matches: list[tuple[tuple[int, int], str]],
        roster_rows: list[int] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Amounts in integer fen, outside the engine, then the program's hit policy; zero amounts dropped."""
        hits: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
        for (di, mi), key in matches:
            pi, ri = self.compiled.rule_keys[key]
            d, _, params, rows = dated[di]
            amount = self.amount(pi, ri, rows[mi], rows, params)
            if amount < 0:
                bad = self.rulebook.programs[pi]
                who = (
                    person_named(roster_rows, mi)
                    if roster_rows is not None
                    else person_named(None, positions[mi])
                )
                raise negative_amount(bad.rules[ri].id, d, who, bad.file)
            hits.setdefault((di, mi, pi), []).append((ri, amount))
        out = []
        for (di, mi, pi), found in sorted(hits.items()):
            program: Program = self.rulebook.programs[pi]
            kept = choose(program.hit_policy, found)
            d = dated[di][0]
            for ri, amount in sorted(h for h in found if h[0] in kept):
                if amount > 0:
                    out.append(
                        (
                            month_code(d),
                            program.id,
                            program.rules[ri].id,
                            positions[mi],
                            amount,
                            d,
                        )
                    )
        return out

    def amount(self, pi: int, ri: int, row: Row, rows: list[Row], params: Params) -> int:
        return int(self.amount_fns[pi][ri](row, rows, params))


_WORKER: ReteEngine | None = None


def _init(rulebook: Rulebook) -> None:
    global _WORKER
    _WORKER = ReteEngine(rulebook, processes=1)
    _WORKER.ensure_registered()


def _work(payload: tuple[pd.DataFrame, np.ndarray, Period]) -> pd.DataFrame:
    assert _WORKER is not None
    return _WORKER.run_chunk(*payload)
