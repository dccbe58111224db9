"""Loading a rulebook folder: YAML rule files → checked, typed `Rulebook` (DESIGN §2).

A folder holds `rulebook.yaml` (name, coverage notes, the program files in report order, shared definition
files) and one file per program. Everything is refused at load time with file, line and key: unknown keys,
unknown names (with a suggestion), type errors, decision tables with gaps or unknown keys, duplicate keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from . import expr as E
from . import yamlio
from .errors import PeriodNotCoveredError, RulebookError
from .facts import FIELDS
from .periods import Period

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules" / "chongqing-nanchuan"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Model):
    id: str
    title: str
    url: str | None = None


class ValueEntry(_Model):
    value: Decimal | dict[str, Decimal]
    status: Literal["official", "assumed"]
    reference: str
    note: str | None = None


class Parameter(_Model):
    description: str
    unit: str
    key: str | None = None
    values: dict[dt.date, ValueEntry | None]


class Definition(_Model):
    title: str
    when: str | None = None
    value: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Definition:
        if (self.when is None) == (self.value is None):
            raise ValueError("a definition has exactly one of `when` (a condition) or `value` (a count)")
        return self


class Rule(_Model):
    id: str
    title: str
    when: str
    amount: str
    reference: str | None = None
    note: str | None = None


class Schedule(_Model):
    kind: Literal["monthly", "semester", "annual"]
    reference_dates: list[str] = []

    @model_validator(mode="after")
    def _dates(self) -> Schedule:
        if self.kind == "monthly" and self.reference_dates:
            raise ValueError("a monthly schedule is evaluated on the first day of each month: omit reference_dates")
        if self.kind != "monthly" and not self.reference_dates:
            raise ValueError(f"a {self.kind} schedule needs reference_dates (MM-DD)")
        for md in self.reference_dates:
            try:
                dt.date(2024, int(md[:2]), int(md[3:]))
                assert len(md) == 5 and md[2] == "-"
            except (ValueError, AssertionError):
                raise ValueError(f"reference date {md!r} is not MM-DD") from None
        return self


class ProgramFile(_Model):
    program: str
    title: str
    description: str
    entity: Literal["person", "household"]
    schedule: Schedule
    hit_policy: Literal["collect", "highest", "first"]
    references: list[Reference]
    parameters: dict[str, Parameter] = {}
    definitions: dict[str, Definition] = {}
    rules: list[Rule]


class DefinitionsFile(_Model):
    title: str
    description: str
    definitions: dict[str, Definition]


class RulebookFile(_Model):
    name: str
    title: str
    description: str
    definitions: list[str]
    programs: list[str]


# --- compiled form ------------------------------------------------------------------------------------------


@dataclass
class Param:
    name: str
    file: str
    description: str
    unit: str
    key: str | None
    entries: list[tuple[dt.date, ValueEntry | None]]

    def entry_at(self, d: dt.date) -> tuple[dt.date, ValueEntry] | None:
        found = None
        for start, entry in self.entries:
            if start <= d:
                found = (start, entry)
        if found is None or found[1] is None:
            return None
        return found  # type: ignore[return-value]

    def fen_at(self, d: dt.date) -> int | dict[str, int]:
        hit = self.entry_at(d)
        if hit is None:
            raise PeriodNotCoveredError(f"参数 {self.name} 在 {d} 没有有效值", file=self.file)
        v = hit[1].value
        if isinstance(v, dict):
            return {k: int(x * 100) for k, x in v.items()}
        return int(v * 100)

    def covered(self) -> tuple[dt.date, dt.date | None] | None:
        """The first continuous span with a value in force: (first day, last day or None = open)."""
        start = None
        for d, entry in self.entries:
            if entry is not None and start is None:
                start = d
            elif entry is None and start is not None:
                return start, d - dt.timedelta(days=1)
        return (start, None) if start is not None else None


@dataclass
class CompiledDefinition:
    name: str
    title: str
    file: str
    node: E.Node
    type: E.Type
    params: set[str]  # parameters it reads directly


@dataclass
class CompiledRule:
    id: str
    title: str
    when: E.Node
    amount: E.Node
    reference: str
    params: set[str]  # parameters read by the rule and the definitions it uses, transitively


@dataclass
class Program:
    id: str
    title: str
    description: str
    file: str
    entity: str
    schedule: Schedule
    hit_policy: str
    references: list[Reference]
    rules: list[CompiledRule]


@dataclass
class Rulebook:
    name: str
    title: str
    folder: Path
    programs: list[Program]
    params: dict[str, Param]
    definitions: list[CompiledDefinition]  # in dependency order
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for path, sha in sorted(self.files.items()):
            h.update(f"{path}\0{sha}\n".encode())
        return h.hexdigest()

    def coverage(self) -> tuple[dt.date, dt.date]:
        spans = [p.covered() for p in self.params.values()]
        starts = [s[0] for s in spans if s]
        ends = [s[1] for s in spans if s and s[1] is not None]
        return max(starts), min(ends) if ends else dt.date.max

    def check_period(self, period: Period) -> None:
        """Refuse a period in which some parameter has no value in force, naming it and the coverage."""
        lo, hi = self.coverage()
        for p in self.params.values():
            gap = period.start if p.entry_at(period.start) is None else next(
                (d for d, entry in p.entries if period.start < d <= period.end and entry is None), None)
            if gap is not None:
                err = PeriodNotCoveredError(
                    f"无法计算期间 {period.label}: 参数 {p.name}({Path(p.file).name})在 {gap} 没有有效值;"
                    f"本规则库 {self.name} 覆盖 {lo} 至 {hi}")
                err.file = p.file
                raise err

    def program(self, pid: str) -> Program:
        for p in self.programs:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def assumed(self, params: set[str], d: dt.date) -> list[str]:
        """Of these parameters, those whose value in force at d is only assumed: `name@effective date`."""
        out = []
        for name in sorted(params):
            hit = self.params[name].entry_at(d)
            if hit is not None and hit[1].status == "assumed":
                out.append(f"{name}@{hit[0]}")
        return out


# --- loading ------------------------------------------------------------------------------------------------


def _model(cls: type[_Model], data: Any, path: Path) -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        loc = tuple(err["loc"])
        key = ".".join(str(x) for x in loc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            import difflib

            allowed = list(_fields_at(cls, loc[:-1]))
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = f"未知的键 {loc[-1]!r}" + (f",是否想写 {hint[0]!r}?" if hint else f"(可用: {', '.join(allowed)})")
        elif err["type"] == "missing":
            msg = f"缺少必需的键 {loc[-1]!r}"
        raise RulebookError(msg, file=str(path), key=key, line=yamlio.line_of(data, loc)) from None


def _fields_at(cls: type[_Model], loc: tuple[Any, ...]) -> list[str]:
    model: Any = cls
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            continue
        ann = info.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            model = next((a for a in args[1:] if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return list(getattr(model, "model_fields", {})) if model else []


def load_rulebook(folder: str | Path | None = None) -> Rulebook:
    root = Path(folder) if folder else DEFAULT_RULES
    index = root / "rulebook.yaml"
    if not index.is_file():
        raise RulebookError(f"规则库目录 {root} 中没有 rulebook.yaml")
    files: dict[str, str] = {}

    def read(name: str) -> Any:
        path = root / name
        if not path.is_file():
            raise RulebookError(f"rulebook.yaml 列出的文件 {name} 不存在", file=str(index))
        files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        return yamlio.load(path)

    meta: RulebookFile = _model(RulebookFile, read("rulebook.yaml"), index)
    raw_defs: list[tuple[str, str, Definition, Any]] = []
    for name in meta.definitions:
        data = read(name)
        dfile: DefinitionsFile = _model(DefinitionsFile, data, root / name)
        raw_defs += [(name, k, v, data) for k, v in dfile.definitions.items()]
    pfiles: list[tuple[str, ProgramFile, Any]] = []
    for name in meta.programs:
        data = read(name)
        pf: ProgramFile = _model(ProgramFile, data, root / name)
        pfiles.append((name, pf, data))
        raw_defs += [(name, k, v, data) for k, v in pf.definitions.items()]

    params: dict[str, Param] = {}
    for name, pf, data in pfiles:
        for pname, p in pf.parameters.items():
            where = str(root / name)
            line = yamlio.line_of(data, ("parameters", pname))
            if pname in params or pname in FIELDS:
                raise RulebookError(f"参数名 {pname} 已被使用(参数、字段和定义的名字必须唯一)", file=where, line=line)
            _check_param(pname, p, where, line)
            params[pname] = Param(pname, where, p.description, p.unit, p.key, sorted(p.values.items()))

    env = E.Env(fields=dict(FIELDS), params={k: v.key for k, v in params.items()}, allow_aggregates=True)
    definitions = _compile_definitions(raw_defs, env, params, root)
    def_by_name = {d.name: d for d in definitions}
    programs = []
    seen_rules: dict[str, str] = {}
    for name, pf, data in pfiles:
        programs.append(_compile_program(name, pf, data, env, def_by_name, params, seen_rules, root))
    return Rulebook(meta.name, meta.title, root, programs, params, definitions, files)


def _check_param(name: str, p: Parameter, file: str, line: int | None) -> None:
    if p.key is not None and (p.key not in FIELDS or FIELDS[p.key].kind != "enum"):
        raise RulebookError(f"参数 {name} 的 key {p.key!r} 应是取值可枚举的字段", file=file, line=line)
    for d, entry in p.values.items():
        if entry is None:
            continue
        values = entry.value.values() if isinstance(entry.value, dict) else [entry.value]
        if isinstance(entry.value, dict) != (p.key is not None):
            raise RulebookError(f"参数 {name} 在 {d} 的取值应为" + ("按 key 的表" if p.key else "单个金额"),
                                file=file, line=line)
        if isinstance(entry.value, dict):
            unknown = set(entry.value) - set(FIELDS[p.key].values)  # type: ignore[index]
            if unknown:
                raise RulebookError(f"参数 {name} 在 {d} 的表有未知的键 {sorted(unknown)}(可选: "
                                    f"{' / '.join(FIELDS[p.key].values)})", file=file, line=line)  # type: ignore[index]
        for v in values:
            if v < 0 or v * 100 != (v * 100).to_integral_value():
                raise RulebookError(f"参数 {name} 在 {d} 的金额 {v} 应为非负、最多两位小数", file=file, line=line)


def _compile_definitions(raw: list[tuple[str, str, Definition, Any]], env: E.Env, params: dict[str, Param],
                         root: Path) -> list[CompiledDefinition]:
    nodes: dict[str, tuple[str, Definition, E.Node, Any]] = {}
    for file, name, d, data in raw:
        line = yamlio.line_of(data, ("definitions", name))
        if name in nodes or name in env.fields or name in params:
            raise RulebookError(f"定义名 {name} 已被使用", file=str(root / file), line=line)
        try:
            node = E.parse(d.when if d.when is not None else d.value)  # type: ignore[arg-type]
        except E.ExprError as e:
            raise RulebookError(str(e), file=str(root / file), key=f"definitions.{name}", line=line) from None
        nodes[name] = (file, d, node, data)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, chain: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            file = nodes[n][0]
            raise RulebookError(f"定义循环引用: {' → '.join([*chain, n])}", file=str(root / file))
        state[n] = 1
        for dep in sorted(E.names(nodes[n][2]) & set(nodes)):
            visit(dep, [*chain, n])
        state[n] = 2
        order.append(n)

    for n in nodes:
        visit(n, [])
    out = []
    for n in order:
        file, d, node, data = nodes[n]
        env.used_params = set()
        where = str(root / file)
        line = yamlio.line_of(data, ("definitions", n))
        try:
            t = E.check(node, env)
        except E.ExprError as e:
            raise RulebookError(str(e), file=where, key=f"definitions.{n}", line=line) from None
        want = "bool" if d.when is not None else "int"
        if t.kind != want:
            raise RulebookError(f"定义 {n} 应得到 {want},实为 {t}", file=where, key=f"definitions.{n}", line=line)
        _check_tables(node, _conjuncts(node, {d.name: d for d in out}), params, where, f"definitions.{n}", line)
        env.fields[n] = t
        out.append(CompiledDefinition(n, d.title, where, node, t, set(env.used_params)))
    return out


def _compile_program(name: str, pf: ProgramFile, data: Any, env: E.Env, defs: dict[str, CompiledDefinition],
                     params: dict[str, Param], seen_rules: dict[str, str], root: Path) -> Program:
    where = str(root / name)
    rules = []
    ref_ids = {r.id for r in pf.references}
    rule_env = E.Env(fields=env.fields, params=env.params, allow_aggregates=False)
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
                t = E.check(node, rule_env)
            except E.ExprError as e:
                raise RulebookError(str(e), file=where, key=f"rules[{r.id}].{part}", line=part_line[part]) from None
            if t.kind != want:
                raise RulebookError(f"{part} 应得到 {want},实为 {t}", file=where, key=f"rules[{r.id}].{part}",
                                    line=part_line[part])
            compiled[part] = (node, set(rule_env.used_params))
        when, amount = compiled["when"][0], compiled["amount"][0]
        _check_tables(amount, _conjuncts(when, defs), params, where, f"rules[{r.id}].amount", part_line["amount"])
        if r.reference is not None and r.reference not in ref_ids:
            raise RulebookError(f"规则 {r.id} 的 reference {r.reference!r} 不在本文件 references 里", file=where, line=line)
        used = compiled["when"][1] | compiled["amount"][1] | _transitive_params(E.names(when) | E.names(amount), defs)
        rules.append(CompiledRule(r.id, r.title, when, amount, r.reference or pf.references[0].id, used))
    return Program(pf.program, pf.title, pf.description, where, pf.entity, pf.schedule, pf.hit_policy,
                   pf.references, rules)


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
    elif isinstance(node, E.Not):
        children = [node.item]
    elif isinstance(node, E.InList):
        children = [node.item]
    elif isinstance(node, E.Agg):
        children = [node.arg]
    return [x for c in children for x in _lookups(c)]


def _check_tables(node: E.Node, guard: E.Node, params: dict[str, Param], file: str, key: str,
                  line: int | None) -> None:
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
                    f"补上这些键,或在规则条件里写明 {lk.key.name} in (...) 排除它们", file=file, key=key, line=line)
