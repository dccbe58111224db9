"""The words of the rule files: every condition of the bundled rulebook has them, and a bad one is refused at load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook
from subsidy_engine.rulebook.phrases import lookup
from subsidy_engine.rulebook.words import condition, formula, yuan


def _conditions(node: E.Node) -> list[E.Node]:
    """A condition and, inside its `and`s and `or`s, every part of it."""
    out = [node]
    if isinstance(node, E.And | E.Or):
        for item in node.items:
            out += _conditions(item)
    return out


def test_every_condition_and_definition_of_the_bundled_rulebook_has_words() -> None:
    rb = load_rulebook()
    nodes: list[E.Node] = []
    for p in rb.programs:
        for r in p.rules:
            assert r.phrase is not None, r.id
            nodes += _conditions(r.when)[1:] if isinstance(r.when, E.And) else [r.when]
    for d in rb.definitions:
        if d.type.kind == "bool":
            nodes += [E.Name(d.name), *_conditions(d.node)[1:]]
    missing = [
        E.render(n)
        for n in nodes
        if lookup(rb.phrases, n, True) is None or lookup(rb.phrases, n, False) is None
    ]
    assert missing == []
    assert len(nodes) > 60


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, dest)
    return dest


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "definitions.yaml",
            "phrase_not: 不是特困人员",
            "phrase_not: 不是特困人员 {tekunn}",
            "definitions.yaml:",
        ),
        (
            "definitions.yaml",
            "phrase_not: 不是特困人员",
            "phrase_not: 不是特困人员 {tekunn}",
            "是否想写 'tekun'",
        ),
        ("definitions.yaml", "phrase_not: 不是特困人员", "phrase_not: '{disability_cert}'", "模板不得显示"),
        ("dibao.yaml", "  age >= 70:\n", "  age + 70:\n", "[phrases.age + 70]: phrases 的键应是条件"),
        ("definitions.yaml", "  tekun:\n    phrase: 是特困人员\n", "  not not tekun:\n    phrase: 是\n", ""),
        (
            "definitions.yaml",
            "      - {when: age < 0, text: 尚未出生}\n",
            "      - {when: age < 0, text: 尚未出生}\n      - {when: age < 1, text: 一岁}\n",
            "",
        ),
        (
            "definitions.yaml",
            '      - {text: "已死亡(死亡日期 {died_on})"}\n',
            '      - {when: age > 200, text: "已死亡(死亡日期 {died_on})"}\n',
            "用语列表的最后一项不写 when",
        ),
        ("dibao.yaml", "  age < 6:\n", "  alive:\n", "条件 alive 的用语已在"),
    ],
)
def test_bad_words_are_refused_at_load(rules_copy: Path, file: str, old: str, new: str, message: str) -> None:
    path = rules_copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture drifted: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if message == "":  # not an error: a well-formed change loads
        assert load_rulebook(rules_copy).phrases
        return
    with pytest.raises(RulebookError) as err:
        load_rulebook(rules_copy)
    assert message in str(err.value)


def test_formulas_and_conditions_in_words() -> None:
    rb = load_rulebook()
    dibao = rb.program("dibao").rules[0]
    assert formula(rb, dibao.amount) == (
        "户内在保人数 × (城乡最低生活保障标准(按低保类别) − 家庭月人均收入)"
        " + 户内在保重点保障对象人数 × 低保重点保障对象每人每月加发金额(按低保类别)"
    )
    assert condition(rb, E.parse("not tekun")) == "不是特困人员"
    assert condition(rb, E.parse("age >= 18")) == "年龄不低于18"  # no words written: composed
    assert [yuan(f) for f in (0, 5, 768800, 123456789, -1250)] == [
        "0.00",
        "0.05",
        "7,688.00",
        "1,234,567.89",
        "-12.50",
    ]
