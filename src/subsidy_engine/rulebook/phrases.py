"""The words of the rulebook's conditions: a phrase where a condition holds and one where it fails, checked at load.

Words are written in the rule files: `phrase` / `phrase_not` on a definition (the words of its name), on a
condition of a definition written as a list, on a rule (its whole `when`), and in a file's `phrases:` map for
the conditions rules and definitions write inline (`alive`, `disability_grade == 1`). Each is a text template
(rulebook/template.py: `{…}` slots are fields, definitions, parameters, roster columns or expressions), or a
list of wordings chosen by condition, the last one without `when`:

    phrase_not:
      - {when: age < 0, text: 尚未出生}
      - {text: "已死亡(死亡日期 {died_on})"}

A condition is found by its canonical text (`expr.render`), so `not alive` uses the words of `alive` swapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook import yamlio
from subsidy_engine.rulebook.files import Choice, Phrase
from subsidy_engine.rulebook.files import Words as RawWords
from subsidy_engine.rulebook.template import Template, compile_template


@dataclass(frozen=True)
class Wording:
    """Alternatives in order: the first whose condition holds (None = always) gives the words."""

    choices: tuple[tuple[E.Node | None, Template], ...]

    def templates(self) -> list[Template]:
        return [t for _, t in self.choices]


@dataclass(frozen=True)
class CompiledPhrase:
    holds: Wording
    fails: Wording | None
    file: str


def lookup(phrases: dict[str, CompiledPhrase], node: E.Node, holds: bool) -> Wording | None:
    """The words of a condition that holds (or fails): its own, or those of `X` for `not X`, swapped."""
    own = phrases.get(E.render(node))
    if own is not None:
        return own.holds if holds else own.fails
    if isinstance(node, E.Not):
        inner = phrases.get(E.render(node.item))
        if inner is not None:
            return inner.fails if holds else inner.holds
    return None


class PhraseCollector:
    """Gathers the words of one rulebook while it loads; `add` checks each template against the full vocabulary."""

    def __init__(self, env: T.Env) -> None:
        self.env = env
        self.phrases: dict[str, CompiledPhrase] = {}

    def add_map(self, mapping: dict[str, Phrase], file: str, data: Any) -> None:
        for text, p in mapping.items():
            line = yamlio.line_of(data, ("phrases", text))
            try:
                node = E.parse(text)
                kind = T.check(node, self.env).kind
            except E.ExprError as e:
                raise RulebookError(str(e), file=file, key=f"phrases.{text}", line=line) from None
            if kind != "bool":
                raise RulebookError(
                    f"phrases 的键应是条件,{text!r} 得到 {kind}", file=file, key=f"phrases.{text}", line=line
                )
            self.add(E.render(node), p.phrase, p.phrase_not, file, f"phrases.{text}", line)

    def add(
        self,
        key: str,
        phrase: RawWords | None,
        phrase_not: RawWords | None,
        file: str,
        where: str,
        line: int | None,
    ) -> CompiledPhrase | None:
        if phrase is None:
            if phrase_not is not None:
                raise RulebookError("有 phrase_not 时也要写 phrase", file=file, key=where, line=line)
            return None
        if key in self.phrases:
            raise RulebookError(
                f"条件 {key} 的用语已在 {self.phrases[key].file} 写过(每个条件只写一次)",
                file=file,
                key=where,
                line=line,
            )
        try:
            holds = self.wording(phrase)
            assert holds is not None
            compiled = CompiledPhrase(holds, self.wording(phrase_not), file)
        except E.ExprError as e:
            raise RulebookError(str(e), file=file, key=where, line=line) from None
        if key:
            self.phrases[key] = compiled
        return compiled

    def wording(self, words: RawWords | None) -> Wording | None:
        if words is None:
            return None
        items = [Choice(text=words)] if isinstance(words, str) else list(words)
        if not items or items[-1].when is not None:
            raise E.ExprError("用语列表的最后一项不写 when(其余情况都用它)")
        choices: list[tuple[E.Node | None, Template]] = []
        for c in items:
            guard = None
            if c.when is not None:
                guard = E.parse(c.when)
                if T.check(guard, self.env).kind != "bool":
                    raise E.ExprError(f"用语的 when 应是条件: {c.when!r}")
            choices.append((guard, compile_template(c.text, self.env)))
        return Wording(tuple(choices))
