"""Hostile rule files (tests/hostile/rules/cases.py) give exit 4 with file:line and a clear message, never a
traceback; a seeded mutator of the bundled rule files never makes loading raise anything but RulebookError."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from helpers import household_rows, run
from subsidy_engine.errors import RulebookError
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook
from subsidy_engine.run.pipeline import evaluate_roster

HERE = Path(__file__).parent / "rules"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"hostile_rules_{name}", HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases = _module("cases")
mutate = _module("mutate")


def test_the_small_rulebook_loads(tmp_path: Path) -> None:
    cases.write(tmp_path, "tekun.yaml", lambda text: text)
    rb = load_rulebook(tmp_path)
    assert [r.id for p in rb.programs for r in p.rules] == ["tekun"]
    assert rb.params["tekun_basic_living"].fen_at(__import__("datetime").date(2023, 5, 1)) == 93200


@pytest.mark.parametrize("case", cases.CASES, ids=[c[0] for c in cases.CASES])
def test_a_hostile_rule_file_exits_4_with_file_line_and_message(tmp_path: Path, case: tuple) -> None:
    _, file, edit, message = case
    cases.write(tmp_path, file, edit)
    code, out, err = run("rules", "check", "--rules", str(tmp_path))
    assert code == 4, (code, out, err)
    assert err.startswith(f"错误: {tmp_path}/") and err.count("\n") == 1, err  # one line, naming the file
    assert message in err
    assert "Traceback" not in err


def test_evaluate_with_a_hostile_rule_folder_exits_4(tmp_path: Path) -> None:
    cases.write(tmp_path / "rules", "tekun.yaml", cases.value("1" + "0" * 40))
    roster = Path(__file__).parents[2] / "fixtures" / "small" / "tekun-elderly-dies-in-october.csv"
    code, _, err = run(
        "evaluate",
        str(roster),
        "--period",
        "2023",
        "--rules",
        str(tmp_path / "rules"),
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 4
    assert f"tekun.yaml:{cases.VALUE_LINE}: 数字写得过长" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key", ["2023-01-01", '"2023-01-01"', "'2023-01-01'"])
def test_a_date_key_may_be_a_yaml_date_or_the_same_text_quoted(tmp_path: Path, key: str) -> None:
    cases.write(tmp_path, "tekun.yaml", cases.sub("2023-01-01:", f"{key}:"))
    p = load_rulebook(tmp_path).params["tekun_basic_living"]
    assert [str(d) for d, _ in p.entries] == ["2023-01-01", "2024-01-01"]


def test_a_parameter_at_the_ceiling_is_paid_exactly_not_wrapped_around(tmp_path: Path) -> None:
    cases.write(tmp_path, "tekun.yaml", cases.value("100000000"))
    rows = household_rows(
        [{"members": [{"姓名": "孤老", "与户主关系": "户主", "born": "1940-01-01", "特困人员": True}]}]
    )
    result = evaluate_roster(roster_from_records(rows), "2023", load_rulebook(tmp_path))
    assert list(result.payments["金额"]) == ["100000000.00"] * 12
    total = result.totals.loc[result.totals["项目"] == "tekun", "金额"]
    assert list(total)[-1] == "1200000000.00"


def test_the_money_ceiling_is_inclusive(tmp_path: Path) -> None:
    cases.write(tmp_path, "tekun.yaml", cases.value("100000000.00"))
    load_rulebook(tmp_path)
    cases.write(tmp_path, "tekun.yaml", cases.value("100000000.01"))
    with pytest.raises(RulebookError, match="超出上限"):
        load_rulebook(tmp_path)


RUNS = 300


def test_mutated_bundled_rule_files_load_or_are_refused_naming_a_file(tmp_path: Path) -> None:
    outcomes = {"loads": 0, "refused": 0}
    for run_no in range(RUNS):
        rng = random.Random(run_no)
        dest = tmp_path / "rules"
        target = mutate.mutated_copy(DEFAULT_RULES, dest, rng)
        try:
            load_rulebook(dest)
            outcomes["loads"] += 1
        except RulebookError as e:
            outcomes["refused"] += 1
            assert e.file and Path(e.file).parent == dest, (run_no, target, str(e))
            assert str(e).startswith(e.file) and "\n" not in str(e), (run_no, target, str(e))
    assert outcomes["refused"] > RUNS // 2 and outcomes["loads"] > 0, outcomes  # the mutator does break files


def test_the_readme_states_the_limits_that_are_enforced() -> None:
    from subsidy_engine.rulebook import limits as L

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Limits of a rule file") :]
    for text in (
        f"at most {L.MAX_FILE_BYTES >> 20} MiB per file and {L.MAX_FOLDER_BYTES >> 20} MiB for the folder",
        f"at most {L.MAX_YAML_DEPTH} deep",
        f"at most {L.MAX_NUMBER_CHARS} characters long",
        f"at most {L.MAX_EXPR_CHARS:,} characters",
        f"{L.MAX_EXPR_DEPTH} levels deep",
        f"at most {L.MAX_DEFINITION_DEPTH} deep",
        f"at most {L.MAX_ITEMS:,} parameters, definitions and rules",
        f"between 0 and {L.HOUSEHOLD_CEILING}",
        f"within ±{L.FIELD_INT:,}",
    ):
        assert text in section, text
    assert L.YUAN_CEILING == 10**8 and L.VALUE_CEILING == 10**14 and L.LINE_CEILING_FEN == 10**10
