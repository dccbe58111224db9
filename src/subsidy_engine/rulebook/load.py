"""Reading a rulebook folder into a checked `Rulebook`: rule files → pydantic models → typed, compiled rules.

Refused at load time, with file, line and key: unknown keys and names (with a suggestion), type errors,
decision tables with gaps or unknown keys, duplicate names, cycles between definitions, and anything beyond the
limits of limits.py (sizes, counts, nesting, amounts that int64 fen arithmetic could not hold).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import bounds as B
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook import yamlio
from subsidy_engine.rulebook.files import (
    Definition,
    DefinitionsFile,
    Parameter,
    ProgramFile,
    RulebookFile,
    parse_file,
)
from subsidy_engine.rulebook.findings import load_findings
from subsidy_engine.rulebook.limits import MAX_DEFINITION_DEPTH, MAX_FOLDER_BYTES, MAX_ITEMS, YUAN_CEILING
from subsidy_engine.rulebook.model import CompiledDefinition, CompiledRule, Param, Program, Rulebook
from subsidy_engine.rulebook.phrases import collect_phrases
from subsidy_engine.rulebook.vocabulary import FIELDS

DEFAULT_RULES = Path(__file__).resolve().parents[1] / "rules" / "chongqing-nanchuan"


def load_rulebook(folder: str | Path | None = None) -> Rulebook:
    """Load and check a rulebook folder (the bundled one by default)."""
    return load(folder or DEFAULT_RULES)


def load(folder: str | Path) -> Rulebook:
    root = Path(folder)
    index = root / "rulebook.yaml"
    if not index.is_file():
        raise RulebookError(f"规则库目录 {root} 中没有 rulebook.yaml")
    files: dict[str, str] = {}
    size = [0]

    def read(name: str) -> Any:
        if not _plain_name(name):
            raise RulebookError(f"rulebook.yaml 列出的 {name[:80]!r} 应是本目录里的文件名", file=str(index))
        path = root / name
        if not path.is_file():
            raise RulebookError(f"rulebook.yaml 列出的文件 {name} 不存在", file=str(index))
        try:
            size[0] += path.stat().st_size
        except OSError as e:
            raise RulebookError(f"无法读取规则文件: {e.strerror or e}", file=str(path)) from None
        if size[0] > MAX_FOLDER_BYTES:
            raise RulebookError(f"规则库的文件合计超过 {MAX_FOLDER_BYTES >> 20} MiB", file=str(path))
        text = yamlio.read_text(path)  # bounded, UTF-8
        files[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return yamlio.load(path, text)

    meta: RulebookFile = parse_file(RulebookFile, read("rulebook.yaml"), index)
    for kind, listed in (("definitions", meta.definitions), ("programs", meta.programs)):
        if len(listed) > MAX_ITEMS:
            raise RulebookError(f"{kind} 列出的文件过多(最多 {MAX_ITEMS} 个)", file=str(index))
        twice = sorted({n for n in listed if listed.count(n) > 1})
        if twice:
            raise RulebookError(f"{kind} 把文件 {', '.join(twice)} 列了不止一次", file=str(index))
    raw_defs: list[tuple[str, str, Definition, Any]] = []
    phrase_maps: list[tuple[str, Any, Any]] = []  # (file, phrases map, data)
    for name in meta.definitions:
        data = read(name)
        dfile: DefinitionsFile = parse_file(DefinitionsFile, data, root / name)
        raw_defs += [(name, k, v, data) for k, v in dfile.definitions.items()]
        phrase_maps.append((name, dfile.phrases, data))
    pfiles: list[tuple[str, ProgramFile, Any]] = []
    for name in meta.programs:
        data = read(name)
        pf: ProgramFile = parse_file(ProgramFile, data, root / name)
        pfiles.append((name, pf, data))
        raw_defs += [(name, k, v, data) for k, v in pf.definitions.items()]
        phrase_maps.append((name, pf.phrases, data))

    params: dict[str, Param] = {}
    for name, pf, data in pfiles:
        for pname, p in pf.parameters.items():
            where = str(root / name)
            line = yamlio.line_of(data, ("parameters", pname))
            if pname in params or pname in FIELDS:
                raise RulebookError(
                    f"参数名 {pname} 已被使用(参数、字段和定义的名字必须唯一)", file=where, line=line
                )
            _check_param(pname, p, {r.id for r in pf.references}, where, data)
            params[pname] = Param(pname, where, p.description, p.unit, p.key, sorted(p.values.items()))
    _check_counts(pfiles, raw_defs, params, root)

    env = T.Env(fields=dict(FIELDS), params={k: v.key for k, v in params.items()}, allow_aggregates=True)
    ranges = B.ranges(env.fields, params)
    definitions = _compile_definitions(raw_defs, env, params, ranges, root)
    def_by_name = {d.name: d for d in definitions}
    programs = []
    seen_rules: dict[str, str] = {}
    seen_programs: dict[str, str] = {}
    for name, pf, data in pfiles:
        if pf.program in seen_programs:
            raise RulebookError(
                f"项目 {pf.program} 重复(已在 {seen_programs[pf.program]})",
                file=str(root / name),
                line=yamlio.line_of(data, ("program",)),
            )
        seen_programs[pf.program] = name
        programs.append(_compile_program(name, pf, data, env, def_by_name, params, ranges, seen_rules, root))
    findings = (
        load_findings(root / meta.findings, read(meta.findings), env, definitions, programs)
        if meta.findings
        else []
    )
    phrases = collect_phrases(env, root, phrase_maps, raw_defs, pfiles, programs)
    return Rulebook(
        meta.name, meta.title, root, programs, params, definitions, files, findings, phrases, meta.description
    )


def _plain_name(name: str) -> bool:
    return 0 < len(name) <= 255 and name not in (".", "..") and not any(c in name for c in "/\\\0:")


def _check_counts(pfiles: list[Any], raw_defs: list[Any], params: dict[str, Param], root: Path) -> None:
    n_rules = sum(len(pf.rules) for _, pf, _ in pfiles)
    for what, n in (("规则", n_rules), ("定义", len(raw_defs)), ("参数", len(params))):
        if n > MAX_ITEMS:
            raise RulebookError(
                f"规则库的{what}超过 {MAX_ITEMS} 个(共 {n} 个)", file=str(root / "rulebook.yaml")
            )
    for p in params.values():
        if len(p.entries) > MAX_ITEMS:
            raise RulebookError(f"参数 {p.name} 的取值超过 {MAX_ITEMS} 个", file=p.file)


def _check_param(name: str, p: Parameter, refs: set[str], file: str, data: Any) -> None:
    line = yamlio.line_of(data, ("parameters", name))
    if p.key is not None and (p.key not in FIELDS or FIELDS[p.key].kind != "enum"):
        raise RulebookError(f"参数 {name} 的 key {p.key!r} 应是取值可枚举的字段", file=file, line=line)
    for d, entry in p.values.items():
        if entry is None:
            continue
        line = yamlio.line_of(data, ("parameters", name, "values", d))
        if entry.reference not in refs:
            raise RulebookError(
                f"参数 {name} 在 {d} 的 reference {entry.reference!r} 不在本文件 references 里",
                file=file,
                line=line,
            )
        values = entry.value.values() if isinstance(entry.value, dict) else [entry.value]
        if isinstance(entry.value, dict) != (p.key is not None):
            raise RulebookError(
                f"参数 {name} 在 {d} 的取值应为" + ("按 key 的表" if p.key else "单个金额"),
                file=file,
                line=line,
            )
        if isinstance(entry.value, dict):
            unknown = set(entry.value) - set(FIELDS[p.key].values)  # type: ignore[index]
            if unknown:
                raise RulebookError(
                    f"参数 {name} 在 {d} 的表有未知的键 {sorted(unknown)}(可选: "
                    f"{' / '.join(FIELDS[str(p.key)].values)})",
                    file=file,
                    line=line,
                )  # type: ignore[index]
        for v in values:
            if not v.is_finite() or v > YUAN_CEILING:
                raise RulebookError(
                    f"参数 {name} 在 {d} 的金额 {v} 超出上限 {YUAN_CEILING} 元(1 亿元)", file=file, line=line
                )
            if v < 0 or v * 100 != (v * 100).to_integral_value():
                raise RulebookError(
                    f"参数 {name} 在 {d} 的金额 {v} 应为非负、最多两位小数", file=file, line=line
                )


def _compile_definitions(
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
            node, conjuncts = _parse_definition(d)
        except E.ExprError as e:
            raise RulebookError(str(e), file=str(root / file), key=f"definitions.{name}", line=line) from None
        nodes[name] = (file, d, node, data)
        findings[name] = conjuncts
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
        _check_tables(
            node, _conjuncts(node, {d.name: d for d in out}), params, where, f"definitions.{n}", line
        )
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


def _compile_program(
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
        _check_tables(
            amount, _conjuncts(when, defs), params, where, f"rules[{r.id}].amount", part_line["amount"]
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


def _conjuncts(node: E.Node, defs: dict[str, CompiledDefinition]) -> E.Node:
    """The top-level `and` of a condition with the definitions it names opened up (for table checks)."""
    items = node.items if isinstance(node, E.And) else (node,)
    out: list[E.Node] = []
    for item in items:
        if isinstance(item, E.Name) and item.name in defs and defs[item.name].type.kind == "bool":
            inner = _conjuncts(defs[item.name].node, defs)
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


def _check_tables(
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
