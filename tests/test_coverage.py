"""`subsidy rules coverage`: the rule cases exercise every rule, decision-table row and parameter period of the
bundled rulebook (CI fails on a gap), and a gap is named."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import run
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook
from subsidy_engine.run.cases import read_case_folder
from subsidy_engine.run.coverage import measure

CASES = Path(__file__).parent / "rules"


def test_the_bundled_rulebook_is_fully_covered_by_the_rule_cases() -> None:
    code, out, err = run("rules", "coverage", "--cases", str(CASES))
    assert code == 0, out + err
    lines = out.splitlines()
    # 18 rules; 城市/农村 of two tables and 市外/区县外市内 of one; 60 dated values (counted from the history table)
    assert lines[1].startswith("规则 18/18 条发放过;决策表行 6/6 行用过;参数期间 60/60 个用过;")
    assert lines[-1] == "规则、决策表行和参数期间全部覆盖。"
    periods = out.split("参数期间:\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [p.split()[:2] for p in periods if p.startswith("dibao_standard ")] == [
        ["dibao_standard", d]
        for d in ("2022-01-01", "2022-09-01", "2023-09-01", "2024-09-01", "2025-09-01", "2026-01-01")
    ]
    assert all(int(p.split()[-1]) > 0 for p in periods)


def test_a_rule_no_case_pays_fails_the_check_naming_it(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules)
    tekun = rules / "tekun.yaml"
    tekun.write_text(
        tekun.read_text(encoding="utf-8")
        + "  - id: tekun_centenarian\n"
        + "    title: 百岁特困人员加发\n"
        + "    when: tekun and alive and age >= 100\n"
        + "    amount: tekun_basic_living\n",
        encoding="utf-8",
    )
    code, out, _ = run("rules", "coverage", "--rules", str(rules), "--cases", str(CASES))
    assert code == 1
    assert "规则 18/19 条发放过" in out
    assert out.endswith("未覆盖 1 项:\n  规则 tekun_centenarian(项目 tekun)从未发放\n")


def test_parameter_periods_and_table_rows_no_case_uses_are_gaps(tmp_path: Path) -> None:
    only = tmp_path / "cases"
    only.mkdir()
    shutil.copy(CASES / "history_migrant_transport.yaml", only)
    code, out, _ = run("rules", "coverage", "--cases", str(only))
    assert code == 1
    gaps = out.split("未覆盖 ", 1)[1].splitlines()[1:]
    assert "  参数 dibao_standard 自 2024-09-01 起的取值从未使用" in gaps
    assert "  决策表 dibao_standard 的行 城市 从未使用" in gaps
    assert "  规则 dibao(项目 dibao)从未发放" in gaps
    assert not any(
        "transport" in g for g in gaps
    )  # both migrant rules, both rows and the one period are used


def test_conditions_seen_one_way_are_reported_but_are_not_gaps() -> None:
    cases = [c for c in read_case_folder(CASES) if c.file.name == "history_migrant_transport.yaml"]
    cov = measure(load_rulebook(), cases)
    one_sided = {(w, c): t > 0 for w, c, t, _ in cov.one_sided()}
    assert (
        one_sided[("定义 dibao_active", "not owns_vehicle")] is True
    )  # never a vehicle owner in these cases
    assert one_sided[("定义 needy", 'household_type == "脱贫户" or monitored')] is True
    assert ("规则 transport_ticket", "ticket_amount > 0") not in one_sided  # seen true and false
    assert not any("条件" in g for g in cov.gaps())


def test_a_missing_case_folder_is_refused(tmp_path: Path) -> None:
    code, _, err = run("rules", "coverage", "--cases", str(tmp_path / "none"))
    assert code == 2 and "none" in err


def test_every_case_names_only_programs_of_the_rulebook() -> None:
    programs = {p.id for p in load_rulebook().programs}
    for case in read_case_folder(CASES):
        assert set(case.programs or ()) <= programs, (case.file.name, case.name)
