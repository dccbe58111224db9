"""The rete engine (durable-rules): same lines as the pandas engine, and every pitfall of notes/durable-rules.md
guarded by a test (threads, sessions, memory, hash collisions, swallowed exceptions, compile-time limits)."""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import check_case, household_rows, run
from subsidy_engine.engines.rete import engine as engine_rete
from subsidy_engine.engines.rete import host as rete_host
from subsidy_engine.engines.rete.engine import ReteEngine
from subsidy_engine.engines.rete.host import check_fact_ids, fact_hash
from subsidy_engine.engines.rete.patterns import compile_rulesets
from subsidy_engine.engines.scalar import Scalar
from subsidy_engine.engines.vectorized import VectorizedEngine
from subsidy_engine.errors import EvaluationError, RulebookError
from subsidy_engine.periods import parse_period
from subsidy_engine.roster.read import read_roster, roster_from_records
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.model import CompiledRule
from subsidy_engine.run.cases import RuleCase, read_case_folder
from subsidy_engine.run.pipeline import evaluate_roster
from test_properties import household

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "fixtures" / "small"
NAMED = ["rural-dibao-severely-disabled", "tuopin-vocational-migrant", "tekun-elderly-dies-in-october"]
RULEBOOK = load_rulebook()
RULE_CASES = ROOT / "tests" / "rules"
# Two fact ids whose durable-rules hash (32-bit FNV-1a) collides; found by search, checked below.
COLLIDING = ("361b29260e@2023-01-01", "ff76b43f9e@2023-01-01")


def line_set(lines: pd.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(
        zip(lines["month"], lines["program"], lines["rule"], lines["pos"], lines["amount"], strict=True)
    )


def persons_of(households: list[dict[str, Any]]) -> pd.DataFrame:
    return validate(roster_from_records(household_rows(households))).persons


def born(i: int) -> str:
    return (dt.date(1940, 1, 1) + dt.timedelta(days=i)).isoformat()  # distinct birth dates: distinct 证件号码


def tiny_households(n: int) -> pd.DataFrame:
    """n one-person 特困 households (each gets tekun lines), built without hypothesis."""
    rows = household_rows(
        [
            {
                "户编号": f"T{i:05d}",
                "members": [{"姓名": "甲", "与户主关系": "户主", "特困人员": True, "born": born(i)}],
            }
            for i in range(n)
        ]
    )
    persons = validate(roster_from_records(rows)).persons
    assert len(persons) == n
    return persons


# --- same lines as the pandas engine ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(household(), min_size=1, max_size=6), st.sampled_from(["2022", "2023", "2024", "2025", "2026"])
)
def test_both_engines_give_the_identical_line_set(households: list[dict[str, Any]], year: str) -> None:
    raw = roster_from_records(household_rows(households))
    pandas_run = evaluate_roster(raw, year, RULEBOOK)
    rete_run = evaluate_roster(raw, year, RULEBOOK, engine="rete", processes=1)
    assert pandas_run.validated.rows_rejected == 0
    assert line_set(rete_run.lines) == line_set(pandas_run.lines)


@pytest.mark.parametrize("name", NAMED)
def test_named_fixture_gives_the_same_bytes_with_the_rete_engine(tmp_path: Path, name: str) -> None:
    code, _, err = run(
        "evaluate",
        str(SMALL / f"{name}.csv"),
        "--period",
        "2023",
        "--out",
        str(tmp_path / "o"),
        "--engine",
        "rete",
    )
    assert code == 0, err
    assert (tmp_path / "o" / "payments.csv").read_bytes() == (SMALL / f"{name}.expected.csv").read_bytes()


@pytest.mark.parametrize("name", NAMED)
def test_cross_check_passes_on_the_named_fixtures(tmp_path: Path, name: str) -> None:
    code, _, err = run(
        "evaluate",
        str(SMALL / f"{name}.csv"),
        "--period",
        "2023",
        "--out",
        str(tmp_path / "o"),
        "--cross-check",
    )
    assert code == 0, err
    assert (tmp_path / "o" / "payments.csv").read_bytes() == (SMALL / f"{name}.expected.csv").read_bytes()
    assert not (tmp_path / "o.cross-check.csv").exists()


def test_cross_check_fails_when_the_engines_differ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ReteEngine.amount

    def one_fen_more(self: ReteEngine, pi: int, ri: int, *args: Any) -> int:
        bump = self.rulebook.programs[pi].rules[ri].id == "disability_care_grade1"
        return real(self, pi, ri, *args) + (1 if bump else 0)

    monkeypatch.setattr(ReteEngine, "amount", one_fen_more)
    out = tmp_path / "o"
    code, _, err = run(
        "evaluate",
        str(SMALL / "rural-dibao-severely-disabled.csv"),
        "--period",
        "2023",
        "--out",
        str(out),
        "--cross-check",
    )
    assert code == 7, err
    assert not (out / "payments.csv").exists()
    report_path = tmp_path / "o.cross-check.csv"
    assert str(report_path) in err
    report = pd.read_csv(report_path, dtype=str)
    assert len(report) == 12  # the care allowance of each month
    first = report.iloc[0]
    assert (first["发放月份"], first["项目"], first["姓名"]) == ("2023-01", "disability_care", "刘桂兰")
    assert (first["pandas金额"], first["rete金额"]) == ("90.00", "90.01")
    assert "disability_care_grade2: disability_grade == 2 不成立" in first["rete依据"]


def test_the_process_pool_gives_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_rete, "PARALLEL_MIN_HOUSEHOLDS", 0)
    persons = pd.concat([validate(read_roster(SMALL / f"{n}.csv")).persons for n in NAMED], ignore_index=True)
    period = parse_period("2023")
    expected = line_set(VectorizedEngine(RULEBOOK).run(persons, period))
    assert line_set(ReteEngine(RULEBOOK, processes=2).run(persons, period)) == expected


# --- pitfalls -----------------------------------------------------------------------------------------------


def test_no_thread_is_started_and_durable_lang_is_never_imported() -> None:
    persons = tiny_households(20)
    before = threading.active_count()
    for _ in range(3):
        ReteEngine(RULEBOOK, processes=1).run(persons, parse_period("2023-01"))
    assert threading.active_count() == before
    assert "durable.lang" not in sys.modules


def test_more_than_1024_households_in_one_process() -> None:
    persons = tiny_households(1_100)
    period = parse_period("2023-01")
    lines = ReteEngine(RULEBOOK, processes=1).run(persons, period)
    assert line_set(lines) == line_set(VectorizedEngine(RULEBOOK).run(persons, period))
    assert (lines["program"] == "tekun").sum() == 1_100


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4  # resident pages of 4 KiB


def test_memory_stays_flat_over_20000_households() -> None:
    """Sessions are deleted after each household: 20,000 households in one process do not grow the RSS
    (a leaked session holds ~10 KB per fact, so a leak would add well over 100 MB here)."""
    engine = ReteEngine(RULEBOOK, processes=1)
    persons = tiny_households(1)
    period = parse_period("2023-01")
    engine.run(persons, period)  # warm up: ruleset registered, caches filled
    dated, positions = _one_household(engine, persons, period)
    for _ in range(1_000):
        engine.household(dated, positions)
    before = _rss_kb()
    for _ in range(20_000):
        assert engine.household(dated, positions)  # one tekun line each time
    growth_mb = (_rss_kb() - before) / 1024
    assert growth_mb < 40, f"RSS grew by {growth_mb:.1f} MB over 20,000 households"


def _one_household(engine: ReteEngine, persons: pd.DataFrame, period: Any) -> tuple[Any, list[int]]:
    from subsidy_engine.engines.contract import params_at
    from subsidy_engine.engines.facts import base_facts, facts_at
    from subsidy_engine.engines.scalar import fact_rows

    base = base_facts(persons)
    dated = [
        (d, pis, params_at(RULEBOOK, d), fact_rows(facts_at(base, d))) for d, pis in engine.schedule(period)
    ]
    return dated, [0]


def test_facts_hold_only_real_ints_bools_and_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    real = rete_host.QuietHost.assert_facts

    def spy(self: Any, name: str, facts: list[dict[str, Any]], complete: Any = None) -> Any:
        seen.extend(facts)
        return real(self, name, facts, complete)

    monkeypatch.setattr(rete_host.QuietHost, "assert_facts", spy)
    ReteEngine(RULEBOOK, processes=1).run(
        validate(read_roster(SMALL / f"{NAMED[0]}.csv")).persons, parse_period("2023")
    )
    assert seen
    for fact in seen:
        for key, value in fact.items():
            assert type(value) in (int, bool, str), (key, type(value))
            assert isinstance(fact["id"], str) and fact["id"].isascii()


def test_the_fact_hash_is_the_one_durable_rules_uses() -> None:
    a, b = COLLIDING
    assert fact_hash(a) == fact_hash(b)
    # durable-rules itself rejects the second fact as a duplicate (in a child: it may crash afterwards)
    code = f"""
from durable.engine import Host, MessageObservedException
class H(Host):
    def _run(self): pass
h = H()
h.set_rulesets({{"t": {{"r": {{"all": [{{"m": {{"c": 1}}}}], "run": lambda c: None}}}}}})
try:
    h.assert_facts("t", [{{"sid": "1", "id": {a!r}, "c": 1}}, {{"sid": "1", "id": {b!r}, "c": 1}}])
    print("accepted", flush=True)
except MessageObservedException:
    print("observed", flush=True)
"""
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert child.stdout.strip().startswith("observed")


def test_colliding_fact_ids_are_refused_naming_them() -> None:
    with pytest.raises(EvaluationError, match=r"361b29260e@2023-01-01.*ff76b43f9e@2023-01-01"):
        check_fact_ids(["1@2023-01-01", *COLLIDING])
    with pytest.raises(EvaluationError, match="'b'"):
        check_fact_ids(["a", "b"], hash_fn=lambda s: 7)  # a stub hash: everything collides
    check_fact_ids([f"{i}@2023-01-01" for i in range(5_000)])


def test_an_exception_inside_an_action_fails_the_household(monkeypatch: pytest.MonkeyPatch) -> None:
    class Boom(list):  # type: ignore[type-arg]
        def append(self, item: Any) -> None:
            raise RuntimeError("boom")

    monkeypatch.setattr(rete_host, "SINK", Boom())
    with pytest.raises(EvaluationError, match="boom"):
        ReteEngine(RULEBOOK, processes=1).run(tiny_households(1), parse_period("2023-01"))


def test_too_many_rules_for_one_fact_are_refused_when_compiling() -> None:
    rb = copy.deepcopy(RULEBOOK)
    tekun = rb.program("tekun")
    r = tekun.rules[0]
    tekun.rules = [CompiledRule(f"t{i}", r.title, r.when, r.amount, r.reference, r.params) for i in range(70)]
    with pytest.raises(RulebookError, match="最多 63 条"):
        compile_rulesets(rb, Scalar(rb))


def test_too_many_conditions_in_one_pattern_are_refused_when_compiling() -> None:
    rb = copy.deepcopy(RULEBOOK)
    rule = rb.program("tekun").rules[0]
    rule.when = E.parse(" and ".join(f"age >= {i}" for i in range(32)))
    with pytest.raises(RulebookError, match="超过上限 31"):
        compile_rulesets(rb, Scalar(rb))


# --- the rule cases, hand-computed for every year, give the same lines on the rete engine -------------------


@pytest.mark.parametrize("case", read_case_folder(RULE_CASES), ids=lambda c: f"{c.file.stem}: {c.name}")
def test_every_rule_case_holds_on_the_rete_engine(case: RuleCase) -> None:
    check_case(case, engine="rete")
