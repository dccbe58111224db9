"""Definitions and rules compiled: parsed, ordered by what they use, type-checked, bounded, tables checked.

Definitions come out in an order where each follows those it names (a cycle, or nesting deeper than
MAX_DEFINITION_DEPTH, is refused); a rule's `when` must be a condition and its `amount` money, within the
int64 fen bounds (bounds.py); the parameters each one uses, through definitions too, are recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import bounds as B
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook import yamlio
from subsidy_engine.rulebook.files import Definition, ProgramFile
from subsidy_engine.rulebook.limits import MAX_DEFINITION_DEPTH
from subsidy_engine.rulebook.model import CompiledDefinition, CompiledRule, Param, Program
from subsidy_engine.rulebook.tables import check_tables, conjuncts


def compile_definitions(
    raw: list[tuple[str, str, Definition, Any]],
    env: T.Env,
    params: dict[str, Param],
    ranges: dict[str, B.Interval],
    root: Path,
) -> list[CompiledDefinition]:
    nodes: dict[str, tuple[str, Definition, E.Node, Any]] = {}
    findings: dict[str, tuple[tuple[E.Node, str | None], ...]] = {}
    for file, name, d, data in raw:
        line = yamlio.line_of(data, ("definitions", name))
        if name in nodes or name in env.fields or name in params:
            raise RulebookError(f"定义名 {name} 已被使用", file=str(root / file), line=line)
        try:
            node, parts = _parse_definition(d)
        except E.ExprError as e:
            raise RulebookError(str(e), file=str(root / file), key=f"definitions.{name}", line=line) from None
        nodes[name] = (file, d, node, data)
        findings[name] = parts
    order = _dependency_order({n: E.names(v[2]) & set(nodes) for n, v in nodes.items()}, nodes, root)
    out: list[CompiledDefinition] = []
    for n in order:
        file, d, node, data = nodes[n]
        env.used_params = set()
        where = str(root / file)
        line = yamlio.line_of(data, ("definitions", n))
        try:
            t = T.check(node, env)
        except E.ExprError as e:
            raise RulebookError(str(e), file=where, key=f"definitions.{n}", line=line) from None
        want = "bool" if d.when is not None else "int"
        if t.kind != want:
            raise RulebookError(
                f"定义 {n} 应得到 {want},实为 {t}", file=where, key=f"definitions.{n}", line=line
            )
        try:
            iv = B.bound(node, ranges)
        except E.ExprError as e:
            raise RulebookError(str(e), file=where, key=f"definitions.{n}", line=line) from None
        if iv is not None:
            ranges[n] = iv
        check_tables(node, conjuncts(node, {d.name: d for d in out}), params, where, f"definitions.{n}", line)
        env.fields[n] = t
        out.append(CompiledDefinition(n, d.title, where, node, t, set(env.used_params), findings[n]))
    return out


def _parse_definition(d: Definition) -> tuple[E.Node, tuple[tuple[E.Node, str | None], ...]]:
    """A definition's expression; written as a list, its conditions joined by `and`, each with the finding
    (if any) that its failure raises."""
    if not isinstance(d.when, list):
        return E.parse(d.when if d.when is not None else d.value), ()  # type: ignore[arg-type]
    parts: list[tuple[E.Node, str | None]] = []
    for c in d.when:
        text, code = (c, None) if isinstance(c, str) else (c.when, c.finding)
        parts.append((E.parse(text), code))
    if not parts:
        raise E.ExprError("条件列表为空")
    node = parts[0][0] if len(parts) == 1 else E.And(tuple(n for n, _ in parts))
    return node, tuple(parts) if any(code for _, code in parts) else ()


def _dependency_order(deps: dict[str, set[str]], nodes: dict[str, Any], root: Path) -> list[str]:
    """Definitions in an order where each comes after those it uses (no recursion: a long chain is fine);
    a cycle, or definitions nested deeper than MAX_DEFINITION_DEPTH, is refused."""
    order: list[str] = []
    level: dict[str, int] = {}
    on_path: dict[str, int] = {}
    for start in deps:
        if start in level:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(deps[start]))]
        on_path[start] = 0
        while stack:
            n, todo = stack[-1]
            if todo:
                dep = todo.pop(0)
                if dep in on_path:
                    chain = [s[0] for s in stack[on_path[dep] :]] + [dep]
                    raise RulebookError(f"定义循环引用: {' → '.join(chain)}", **_where(nodes, n, root))
                if dep not in level:
                    on_path[dep] = len(stack)
                    stack.append((dep, sorted(deps[dep])))
                continue
            stack.pop()
            del on_path[n]
            level[n] = 1 + max((level[d] for d in deps[n]), default=0)
            if level[n] > MAX_DEFINITION_DEPTH:
                raise RulebookError(
                    f"定义 {n} 经由其他定义嵌套超过 {MAX_DEFINITION_DEPTH} 层", **_where(nodes, n, root)
                )
            order.append(n)
    return order


def _where(nodes: dict[str, Any], name: str, root: Path) -> dict[str, Any]:
    file, _, _, data = nodes[name]
    return {"file": str(root / file), "line": yamlio.line_of(data, ("definitions", name))}


def compile_program(
    name: str,
    pf: ProgramFile,
    data: Any,
    env: T.Env,
    defs: dict[str, CompiledDefinition],
    params: dict[str, Param],
    ranges: dict[str, B.Interval],
    seen_rules: dict[str, str],
    root: Path,
) -> Program:
    where = str(root / name)
    rules = []
    ref_ids = {r.id for r in pf.references}
    rule_env = T.Env(fields=env.fields, params=env.params, allow_aggregates=False)
    for i, r in enumerate(pf.rules):
        line = yamlio.line_of(data, ("rules", i, "id")) or yamlio.line_of(data, ("rules",))
        part_line = {part: yamlio.line_of(data, ("rules", i, part)) or line for part in ("when", "amount")}
        if r.id in seen_rules:
            raise RulebookError(f"规则 id {r.id} 重复(已在 {seen_rules[r.id]})", file=where, line=line)
        seen_rules[r.id] = name
        compiled = {}
        for part, want in (("when", "bool"), ("amount", "money")):
            rule_env.used_params = set()
            try:
                node = E.parse(getattr(r, part))
                t = T.check(node, rule_env)
                if part == "amount":
                    B.check_amount(node, ranges)
                else:
                    B.bound(node, ranges)
            except E.ExprError as e:
                raise RulebookError(
                    str(e), file=where, key=f"rules[{r.id}].{part}", line=part_line[part]
                ) from None
            if t.kind != want:
                raise RulebookError(
                    f"{part} 应得到 {want},实为 {t}",
                    file=where,
                    key=f"rules[{r.id}].{part}",
                    line=part_line[part],
                )
            compiled[part] = (node, set(rule_env.used_params))
        when, amount = compiled["when"][0], compiled["amount"][0]
        check_tables(
            amount, conjuncts(when, defs), params, where, f"rules[{r.id}].amount", part_line["amount"]
        )
        if r.reference is not None and r.reference not in ref_ids:
            raise RulebookError(
                f"规则 {r.id} 的 reference {r.reference!r} 不在本文件 references 里", file=where, line=line
            )
        used = (
            compiled["when"][1]
            | compiled["amount"][1]
            | _transitive_params(E.names(when) | E.names(amount), defs)
        )
        rules.append(CompiledRule(r.id, r.title, when, amount, r.reference or pf.references[0].id, used))
    return Program(
        pf.program,
        pf.title,
        pf.description,
        where,
        pf.entity,
        pf.schedule,
        pf.hit_policy,
        pf.references,
        rules,
    )


def _transitive_params(names: set[str], defs: dict[str, CompiledDefinition]) -> set[str]:
    out: set[str] = set()
    todo = [n for n in names if n in defs]
    seen: set[str] = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        out |= defs[n].params
        todo += [m for m in E.names(defs[n].node) if m in defs]
    return out
