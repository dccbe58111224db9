"""The roster's reject reason codes are one enumeration (roster/reasons.py): every code the checks write is a
member, every member is written somewhere, has a Chinese title on the pages and a line in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd

from subsidy_engine.roster import reasons
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.reasons import Reason
from subsidy_engine.roster.validate import validate
from subsidy_engine.web import labels

ROSTER = Path(reasons.__file__).parent
README = Path(__file__).parent.parent / "README.md"
BAD = Path(__file__).parent / "bad_rosters"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sources() -> dict[Path, ast.Module]:
    return {
        p: ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(ROSTER.glob("*.py"))
        if p != Path(reasons.__file__)
    }


def test_the_checks_write_codes_only_through_the_enumeration() -> None:
    values = {r.value for r in Reason}
    bare = [
        f"{p.name}:{n.lineno}: {n.value!r}"
        for p, tree in _sources().items()
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and n.value in values
    ]
    assert bare == [], "reason codes written as bare strings (use Reason.X):\n" + "\n".join(bare)


def test_every_member_is_written_by_a_check() -> None:
    used = {
        n.attr
        for tree in _sources().values()
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "Reason"
    }
    assert used, "no Reason.X found: the source scan is broken"
    assert {r.name for r in Reason} - used == set(), "members no check writes"
    assert used - {r.name for r in Reason} == set()


def test_every_code_has_a_chinese_title_on_the_pages_and_a_line_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    for r in Reason:
        title = labels.reason(r.value)
        assert title != r.value and CJK.search(title), f"{r.value} has no Chinese title in web/labels.py"
        assert f"`{r.value}`" in readme, f"{r.value} is not in the README's table of reason codes"
    assert set(reasons.TITLES) == set(Reason)


def test_the_bad_rosters_reject_with_known_codes() -> None:
    seen: set[str] = set()
    for path in sorted(BAD.glob("*.csv")):
        rejects: pd.DataFrame = validate(read_roster(path)).rejects
        seen |= set(rejects["原因代码"].astype(str))
    assert seen, "no rejects at all: the fixtures did not load"
    assert seen <= {r.value for r in Reason}, seen - {r.value for r in Reason}
