"""Decision tables checked for gaps: a table must give a value for every key value its rule can reach.

A rule's condition (with the definitions it names opened up) narrows the key values a lookup can see
(`expr.guard_values`); each dated entry of the table must cover them.
"""

from __future__ import annotations

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import CompiledDefinition, Param
from subsidy_engine.rulebook.vocabulary import FIELDS


def conjuncts(node: E.Node, defs: dict[str, CompiledDefinition]) -> E.Node:
    """The top-level `and` of a condition with the definitions it names opened up (for table checks)."""
    items = node.items if isinstance(node, E.And) else (node,)
    out: list[E.Node] = []
    for item in items:
        if isinstance(item, E.Name) and item.name in defs and defs[item.name].type.kind == "bool":
            inner = conjuncts(defs[item.name].node, defs)
            out += list(inner.items) if isinstance(inner, E.And) else [inner]
        else:
            out.append(item)
    return E.And(tuple(out))


def _lookups(node: E.Node) -> list[E.Lookup]:
    if isinstance(node, E.Lookup):
        return [node]
    children: list[E.Node] = []
    if isinstance(node, E.Compare | E.Arith):
        children = [node.left, node.right]
    elif isinstance(node, E.And | E.Or):
        children = list(node.items)
    elif isinstance(node, E.Not | E.InList):
        children = [node.item]
    elif isinstance(node, E.Agg):
        children = [node.arg]
    return [x for c in children for x in _lookups(c)]


def check_tables(
    node: E.Node, guard: E.Node, params: dict[str, Param], file: str, key: str, line: int | None
) -> None:
    """A decision table must give a value for every key value its rule can reach (no gaps)."""
    for lk in _lookups(node):
        p = params[lk.param]
        domain = set(FIELDS[p.key].values) if p.key in FIELDS else set()  # type: ignore[index]
        reached = E.guard_values(guard, lk.key.name)
        need = domain & reached if reached is not None else domain
        for d, entry in p.entries:
            if entry is None or not isinstance(entry.value, dict):
                continue
            gap = sorted(need - set(entry.value))
            if gap:
                raise RulebookError(
                    f"决策表 {lk.param}(自 {d} 起)缺少 {lk.key.name} = {' / '.join(gap)} 的取值;"
                    f"补上这些键,或在规则条件里写明 {lk.key.name} in (...) 排除它们",
                    file=file,
                    key=key,
                    line=line,
                )
