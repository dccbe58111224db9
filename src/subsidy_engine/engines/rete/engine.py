"""The rete engine: households evaluated one at a time in a durable-rules session, lines as the pandas engine's.

Only the date-level facts (alive, age, … from facts.py) are shared with engines/vectorized.py; definitions and
amounts come from the scalar evaluator (scalar.py), and which rules match is decided by durable-rules. One
session per household, deleted after it (≤ 1,024 live sessions, flat memory); `state["exception"]` checked
after every household; money never inside the engine. Large rosters are split over a process pool (fork), each
worker with its own Host.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd
from durable.engine import MessageNotHandledException, MessageObservedException

from subsidy_engine.engines.contract import (
    choose,
    month_code,
    negative_amount,
    params_at,
    person_named,
    schedule,
)
from subsidy_engine.engines.facts import base_facts, facts_at
from subsidy_engine.engines.rete import host as rete_host
from subsidy_engine.engines.rete.host import QuietHost, check_fact_ids
from subsidy_engine.engines.rete.patterns import compile_rulesets
from subsidy_engine.engines.scalar import Params, Row, Scalar, fact_rows
from subsidy_engine.engines.vectorized import LINE_COLUMNS, Progress
from subsidy_engine.errors import EvaluationError
from subsidy_engine.periods import Period
from subsidy_engine.rulebook.model import Program, Rulebook

PARALLEL_MIN_HOUSEHOLDS = 2_000  # below this a pool costs more than it saves


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

    def ensure_registered(self) -> QuietHost:
        h = rete_host.host()
        if self.compiled.name not in rete_host.REGISTERED:
            h.set_rulesets(copy.deepcopy(self.compiled.definition))  # set_rulesets mutates its argument
            rete_host.REGISTERED.add(self.compiled.name)
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
        rete_host.SINK.clear()
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
        return self.lines(dated, positions, [(where[fid], key) for fid, key in rete_host.SINK], roster_rows)

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
