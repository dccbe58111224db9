"""Text templates in rule files (a finding's evidence): literal text with `{…}` slots, checked at load time.

A slot is one of:
- a name the caller supplies (`{months}`, `{program}`, `{source}`);
- `{members(CONDITION)}`: the household members for whom the condition holds, as 姓名(与户主关系);
- a roster column that is not a fact (`{name}`, `{died_on}`, `{disability_cert_valid_to}`), shown as written;
- any expression of the rule language over facts, definitions and parameters (`{dibao_standard[dibao_area]}`),
  shown by its type: money as yuan with two decimals, an enumerated field as its value, a condition as 是/否.
The 证件号码 (nor the 残疾证号, which begins with it) is never a slot: the words are read by people who must
not see it whole. Filling a template with one person's values is engines/slots.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from subsidy_engine.roster.schema import BY_ALIAS
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T

SLOT = re.compile(r"\{([^{}]*)\}")
MEMBERS = re.compile(r"^members\((.*)\)$", re.S)
NEVER = frozenset({"id_number", "disability_cert"})  # 残疾证号 begins with the holder's 证件号码


@dataclass(frozen=True)
class Slot:
    text: str  # as written between the braces
    kind: str  # "context" | "members" | "column" | "expr"
    node: E.Node | None = None  # members' condition or the expression
    type: T.Type | None = None  # of the expression


@dataclass(frozen=True)
class Template:
    source: str
    parts: tuple[str | Slot, ...]

    def slots(self) -> list[Slot]:
        return [p for p in self.parts if isinstance(p, Slot)]


def compile_template(source: str, env: T.Env, context: frozenset[str] = frozenset()) -> Template:
    """Parse and check a template; an unknown slot raises ExprError naming it."""
    parts: list[str | Slot] = []
    pos = 0
    for m in SLOT.finditer(source):
        if m.start() > pos:
            parts.append(source[pos : m.start()])
        parts.append(_slot(m.group(1).strip(), env, context))
        pos = m.end()
    if pos < len(source):
        parts.append(source[pos:])
    if "{" in "".join(p for p in parts if isinstance(p, str)) or "}" in "".join(
        p for p in parts if isinstance(p, str)
    ):
        raise E.ExprError(f"模板 {source!r} 的花括号不成对")
    return Template(source, tuple(parts))


def _slot(text: str, env: T.Env, context: frozenset[str]) -> Slot:
    if text in NEVER:
        raise E.ExprError(f"模板不得显示 {text}(证件号码只出现在发放名单里)")
    if text in context:
        return Slot(text, "context")
    m = MEMBERS.match(text)
    if m:
        node = E.parse(m.group(1))
        t = T.check(node, env)
        if t.kind != "bool":
            raise E.ExprError(f"members(...) 里应是条件,实为 {t}")
        return Slot(text, "members", node)
    if text in BY_ALIAS and text not in env.fields:
        return Slot(text, "column")
    try:
        node = E.parse(text)
    except E.ExprError as e:
        raise E.ExprError(f"模板里的 {{{text}}} 无法识别: {e}") from None
    return Slot(text, "expr", node, T.check(node, env))
