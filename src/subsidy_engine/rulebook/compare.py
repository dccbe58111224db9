"""What changed between two rulebooks, or between two dates of one, in the rulebook's own Chinese words.

Programs by their title, rules by their title, definitions by their title, parameters by their description,
conditions by their phrases (or, where a condition changed but its phrase did not, composed from the names'
labels, so the change still shows), values in yuan with their notice and status (`rules diff`).
"""

from __future__ import annotations

import datetime as dt

from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import words as W
from subsidy_engine.rulebook.files import ValueEntry
from subsidy_engine.rulebook.model import Param, Program, Rulebook
from subsidy_engine.rulebook.phrases import CompiledPhrase, Wording


def entry_text(p: Param, entry: ValueEntry | None) -> str:
    if entry is None:
        return "无值(不覆盖)"
    return f"{W.param_value(p, entry)} {p.unit}(依据 {entry.reference},{W.status_words(entry)})"


def _cond(old_rb: Rulebook, old: E.Node, new_rb: Rulebook, new: E.Node) -> str:
    if isinstance(old, E.And) and isinstance(new, E.And) and len(old.items) == len(new.items):
        pairs = [(a, b) for a, b in zip(old.items, new.items, strict=True) if E.render(a) != E.render(b)]
        if len(pairs) < len(old.items):  # the same list of conditions with some changed: show those
            return ";".join(_cond(old_rb, a, new_rb, b) for a, b in pairs)
    before, after = W.condition(old_rb, old), W.condition(new_rb, new)
    if before == after:  # the phrase did not change with the condition: compose both from the labels
        before, after = W.condition(old_rb, old, own=False), W.condition(new_rb, new, own=False)
    return f"“{before}” → “{after}”"


def compare(old: Rulebook, new: Rulebook) -> list[str]:
    """Lines of text, grouped under 项目 / 规则 / 定义 / 参数 / 用语; empty when nothing changed."""
    out: list[str] = []
    out += _section("项目", _programs(old, new))
    out += _section("规则", _rules(old, new))
    out += _section("定义", _definitions(old, new))
    out += _section("参数", _params(old, new))
    out += _section("条件用语", _phrases(old, new))
    return out


def compare_dates(rb: Rulebook, a: dt.date, b: dt.date) -> list[str]:
    """The parameter values in force on two dates of one rulebook (its rules are the same on both)."""
    lines = []
    for p in rb.params.values():
        ta, tb = _in_force(p, a), _in_force(p, b)
        if ta != tb:
            lines.append(f"  {p.description}({_owner(rb, p)}): {a} {ta} → {b} {tb}")
    return _section("参数", lines)


def _in_force(p: Param, d: dt.date) -> str:
    hit = p.entry_at(d)
    if hit is None:
        return "无值(不覆盖)"
    entry = hit[1]
    return f"{W.param_value(p, entry)} {p.unit}(依据 {entry.reference},{W.status_at(p, d)})"


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"{title}:", *lines] if lines else []


def _owner(rb: Rulebook, p: Param) -> str:
    return next((prog.title for prog in rb.programs if prog.file == p.file), "共同")


def _programs(old: Rulebook, new: Rulebook) -> list[str]:
    a, b = {p.id: p for p in old.programs}, {p.id: p for p in new.programs}
    lines = [f"  新增项目: {b[k].title}" for k in b if k not in a]
    lines += [f"  删除项目: {a[k].title}" for k in a if k not in b]
    for k in a.keys() & b.keys():
        pa, pb = a[k], b[k]
        name = pb.title
        if pa.title != pb.title:
            lines.append(f"  项目名称: {pa.title} → {pb.title}")
        if pa.description != pb.description:
            lines.append(f"  {name} 说明: “{pa.description}” → “{pb.description}”")
        if pa.entity != pb.entity:
            lines.append(f"  {name} 发放对象: {W.ENTITY[pa.entity]} → {W.ENTITY[pb.entity]}")
        if pa.schedule != pb.schedule:
            lines.append(
                f"  {name} 发放时间: {W.schedule_words(pa.schedule)} → {W.schedule_words(pb.schedule)}"
            )
        if pa.hit_policy != pb.hit_policy:
            lines.append(f"  {name} 多条规则: {W.HIT_POLICY[pa.hit_policy]} → {W.HIT_POLICY[pb.hit_policy]}")
        ra, rb_ = {r.id: r for r in pa.references}, {r.id: r for r in pb.references}
        lines += [f"  {name} 新增依据文件: {r}: {rb_[r].title}" for r in rb_ if r not in ra]
        lines += [f"  {name} 删除依据文件: {r}" for r in ra if r not in rb_]
    return lines


def _rules(old: Rulebook, new: Rulebook) -> list[str]:
    lines: list[str] = []
    a = {p.id: p for p in old.programs}
    for pb in new.programs:
        pa: Program | None = a.get(pb.id)
        ra = {r.id: r for r in pa.rules} if pa else {}
        rb_ = {r.id: r for r in pb.rules}
        for k, r in rb_.items():
            if k not in ra:
                lines.append(
                    f"  {pb.title} 新增规则 {r.title}: 条件 {W.condition(new, r.when)};金额 {W.formula(new, r.amount)}"
                )
                continue
            o = ra[k]
            if o.title != r.title:
                lines.append(f"  {pb.title} 规则名称: {o.title} → {r.title}")
            if E.render(o.when) != E.render(r.when):
                lines.append(f"  {pb.title} {r.title} 条件: {_cond(old, o.when, new, r.when)}")
            if E.render(o.amount) != E.render(r.amount):
                lines.append(
                    f"  {pb.title} {r.title} 金额: “{W.formula(old, o.amount)}” → “{W.formula(new, r.amount)}”"
                )
            if o.reference != r.reference:
                lines.append(f"  {pb.title} {r.title} 依据: {o.reference} → {r.reference}")
        lines += [f"  {pb.title} 删除规则 {o.title}" for k, o in ra.items() if k not in rb_]
    return lines


def _definitions(old: Rulebook, new: Rulebook) -> list[str]:
    a, b = {d.name: d for d in old.definitions}, {d.name: d for d in new.definitions}
    lines = []
    for k, d in b.items():
        if k not in a:
            lines.append(f"  新增定义 {d.title}: {_def_words(new, d.node, d.type.kind)}")
        elif E.render(a[k].node) != E.render(d.node):
            if d.type.kind == "bool":
                lines.append(f"  {d.title}: {_cond(old, a[k].node, new, d.node)}")
            else:
                lines.append(f"  {d.title}: “{W.formula(old, a[k].node)}” → “{W.formula(new, d.node)}”")
        elif a[k].title != d.title:
            lines.append(f"  定义名称: {a[k].title} → {d.title}")
    lines += [f"  删除定义 {d.title}" for k, d in a.items() if k not in b]
    return lines


def _def_words(rb: Rulebook, node: E.Node, kind: str) -> str:
    return W.condition(rb, node) if kind == "bool" else W.formula(rb, node)


def _params(old: Rulebook, new: Rulebook) -> list[str]:
    lines: list[str] = []
    for k, p in new.params.items():
        if k not in old.params:
            lines.append(f"  新增参数 {p.description}({_owner(new, p)}),{p.unit}")
            lines += [f"    自 {d} 起 {entry_text(p, e)}" for d, e in p.entries]
            continue
        o = old.params[k]
        if (o.description, o.unit, o.key) != (p.description, p.unit, p.key):
            lines.append(f"  参数 {o.description}({o.unit}) → {p.description}({p.unit})")
        before, after = dict(o.entries), dict(p.entries)
        changes = []
        for d in sorted(before.keys() | after.keys()):
            if d not in before:
                changes.append(f"    新增 自 {d} 起 {entry_text(p, after[d])}")
            elif d not in after:
                changes.append(f"    删除 自 {d} 起 {entry_text(o, before[d])}")
            elif before[d] != after[d]:
                changes.append(f"    自 {d} 起 {entry_text(o, before[d])} → {entry_text(p, after[d])}")
        if changes:
            lines += [f"  {p.description}({_owner(new, p)}):", *changes]
    lines += [
        f"  删除参数 {p.description}({_owner(old, p)})" for k, p in old.params.items() if k not in new.params
    ]
    return lines


def _phrases(old: Rulebook, new: Rulebook) -> list[str]:
    lines = []
    for k, p in new.phrases.items():  # the words of a condition that is in both (a changed one shows above)
        o = old.phrases.get(k)
        if o is not None and _source(o) != _source(p):
            lines.append(f"  “{_text(old, o.holds)}” → “{_text(new, p.holds)}”" + _not(old, o, new, p))
    return lines


def _source(p: CompiledPhrase) -> tuple[tuple[str, ...], tuple[str, ...]]:
    def src(w: Wording | None) -> tuple[str, ...]:
        return tuple(t.source for t in w.templates()) if w is not None else ()

    return src(p.holds), src(p.fails)


def _text(rb: Rulebook, w: Wording | None) -> str:
    return W.wording_text(rb, w) if w is not None else ""


def _not(old: Rulebook, o: CompiledPhrase, new: Rulebook, p: CompiledPhrase) -> str:
    before, after = _text(old, o.fails), _text(new, p.fails)
    return f"(不满足时: “{before}” → “{after}”)" if before != after else ""
