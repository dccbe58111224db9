"""This process's durable-rules Host (no background threads) and the fact ids it can tell apart.

The Host is created on first use and again after a fork; rulesets are registered once per process
(`REGISTERED`). The actions of the rules append (fact id, rule key) to `SINK`, which the engine reads after
each household. A fact id is hashed to 32 bits by durable-rules: ids that collide are refused before asserting.
"""

from __future__ import annotations

import os
from typing import Any

from durable.engine import Host

from subsidy_engine.errors import EvaluationError


class QuietHost(Host):  # type: ignore[misc]
    """A Host that starts no background threads: actions run inside assert_facts, nothing races."""

    def _run(self) -> None:
        pass


_HOST: tuple[int, QuietHost] | None = None
REGISTERED: set[str] = set()
SINK: list[tuple[str, str]] = []  # (fact id, rule key) appended by the actions of the current household


def host() -> QuietHost:
    """This process's Host, created on first use (after any fork: the pid is checked)."""
    global _HOST
    if _HOST is None or _HOST[0] != os.getpid():
        _HOST = (os.getpid(), QuietHost())
        REGISTERED.clear()
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
