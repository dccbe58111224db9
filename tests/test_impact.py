"""`subsidy impact`: the reform's amounts are exactly those of `evaluate` with the edited rulebook, every changed
household is explained by `subsidy explain` under both scenarios, refusals, determinism and the terminal."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from helpers import household_rows, run
from impact_helpers import fen, payments_by, read_csv, write_edited_rulebook, write_roster
from subsidy_engine.engines.vectorized import VectorizedEngine
from subsidy_engine.impact.compare import gain_bands
from subsidy_engine.impact.evaluate import evaluate_pair
from subsidy_engine.impact.reform import apply_edits, parse_edit
from subsidy_engine.periods import parse_period
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from test_properties import household

RULEBOOK = load_rulebook()

# (--set, period): a scalar, a decision table's key, a date inside the period before a change of the baseline
# (the table's other key still changes then), a semester program, the highest-hit program (a rule switches),
# an annual program on its reference day, a value of 0 (households drop out)
EDITS = [
    ("disability_living_allowance=95.50@2023-06-01", "2023"),
    ("dibao_standard[农村]=640@2024-09-01", "2024"),
    ("dibao_standard[城市]=700@2023-03-15", "2023"),
    ("edu_junior_day=400@2025-03-01", "2025"),
    ("premium_needy=300@2024-01-01", "2024"),
    ("transport_flat_rate[市外]=250.25@2023-12-31", "2023"),
    ("tekun_basic_living=0@2026-05-01", "2026"),
]


def edited_folder(base: Path, text: str, period: str) -> Path:
    """The reform of one --set as a rulebook folder on disk, for `evaluate --rules` and `explain --rules`."""
    e = parse_edit(text)
    dst = base / f"rules-{EDITS.index((text, period))}"
    if not dst.exists():
        write_edited_rulebook(dst, e.name, e.key, str(e.value), e.start, parse_period(period).end)
    return dst


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("edited")
    return {text: edited_folder(base, text, period) for text, period in EDITS}


def evaluate(roster: Path, period: str, out: Path, rules: Path | None = None) -> Path:
    code, _, err = run("evaluate", str(roster), "--period", period, "--out", str(out), "--no-progress",
                       *(["--rules", str(rules)] if rules else []))  # fmt: skip
    assert code == 0, err
    return out / "payments.csv"


def impact(roster: Path, period: str, out: Path, *args: str) -> tuple[Path, str]:
    code, stdout, err = run(
        "impact", str(roster), "--period", period, "--out", str(out), "--no-progress", *args
    )
    assert code == 0, err
    return out, stdout


def check_against_two_evaluates(roster: Path, period: str, text: str, folder: Path, tmp: Path) -> None:
    """summary, villages, households and changes agree with the payment lists of two `evaluate` runs."""
    pa = evaluate(roster, period, tmp / "a")
    pb = evaluate(roster, period, tmp / "b", folder)
    out, _ = impact(roster, period, tmp / "impact", "--set", text, "--format", "csv")
    a, b = payments_by(pa, "项目"), payments_by(pb, "项目")
    summary = read_csv(out / "summary.csv")
    assert [r["项目"] for r in summary] == [p.id for p in RULEBOOK.programs] + [""]
    for r in summary:
        key = (r["项目"],)
        want_a = (
            a.get(key, (0, 0))
            if r["项目"]
            else (sum(v[0] for v in a.values()), sum(v[1] for v in a.values()))
        )
        want_b = (
            b.get(key, (0, 0))
            if r["项目"]
            else (sum(v[0] for v in b.values()), sum(v[1] for v in b.values()))
        )
        assert (int(r["基线人次"]), fen(r["基线金额"])) == want_a, r
        assert (int(r["测算人次"]), fen(r["测算金额"])) == want_b, r
        assert fen(r["差额"]) == want_b[1] - want_a[1], r
    va, vb = payments_by(pa, "乡镇", "行政村", "项目"), payments_by(pb, "乡镇", "行政村", "项目")
    villages = {(r["乡镇"], r["行政村"], r["项目"]): r for r in read_csv(out / "villages.csv") if r["项目"]}
    assert set(villages) == set(va) | set(vb)
    for k, r in villages.items():
        assert (fen(r["基线金额"]), fen(r["测算金额"])) == (va.get(k, (0, 0))[1], vb.get(k, (0, 0))[1])
    ha, hb = payments_by(pa, "户编号"), payments_by(pb, "户编号")
    changed = {h for h in set(ha) | set(hb) if ha.get(h, (0, 0))[1] != hb.get(h, (0, 0))[1]}
    households = {(r["户编号"],): r for r in read_csv(out / "households.csv")}
    assert set(households) == changed
    for h, r in households.items():
        fa, fb = ha.get(h, (0, 0))[1], hb.get(h, (0, 0))[1]
        assert (fen(r["基线金额"]), fen(r["测算金额"]), fen(r["差额"])) == (fa, fb, fb - fa)
        kind = "新纳入" if fa == 0 else "退出" if fb == 0 else "增加" if fb > fa else "减少"
        assert r["变化"] == kind
    per_program: dict[str, int] = defaultdict(int)
    for r in read_csv(out / "changes.csv"):
        assert fen(r["差额"]) == fen(r["测算金额"]) - fen(r["基线金额"])
        assert (r["基线规则"], r["基线金额"]) != (r["测算规则"], r["测算金额"])
        per_program[r["项目"]] += fen(r["差额"])
    for r in summary[:-1]:
        assert per_program.get(r["项目"], 0) == fen(r["差额"]), r["项目"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(household(), min_size=1, max_size=6), st.sampled_from(EDITS))
def test_the_difference_is_exactly_that_of_two_evaluate_runs(
    tmp_path_factory: pytest.TempPathFactory, folders: dict[str, Path], households: list[dict[str, Any]],
    edit: tuple[str, str],
) -> None:  # fmt: skip
    text, period = edit
    tmp = tmp_path_factory.mktemp("run")
    roster = write_roster(household_rows(households), tmp / "roster.csv")
    check_against_two_evaluates(roster, period, text, folders[text], tmp)
    event("households changed" if read_csv(tmp / "impact" / "households.csv") else "no household changed")


def _lines(frame: Any) -> list[tuple[Any, ...]]:
    return sorted(frame[["month", "program", "rule", "pos", "amount"]].itertuples(index=False, name=None))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(household(), min_size=1, max_size=8), st.lists(st.sampled_from(EDITS), min_size=1, max_size=3)
)
def test_sharing_facts_gives_the_lines_of_two_separate_engine_runs(
    households: list[dict[str, Any]], edits: list[tuple[str, str]]
) -> None:
    period = parse_period(edits[0][1])
    texts = list(dict.fromkeys(t for t, p in edits if p == edits[0][1]))
    reform = apply_edits(RULEBOOK, [parse_edit(t) for t in texts], period)
    persons = validate(roster_from_records(household_rows(households))).persons
    pair = evaluate_pair(persons, period, RULEBOOK, reform)
    assert _lines(pair.baseline.frame()) == _lines(VectorizedEngine(RULEBOOK).run(persons, period))
    assert _lines(pair.reform.frame()) == _lines(VectorizedEngine(reform).run(persons, period))
    assert pair.reused > 0  # every edit leaves some program (or month) untouched


def rich_roster(path: Path) -> Path:
    """A few households every edit of EDITS changes: 低保 (城市 and 农村), 特困, disabled, pupils, migrants."""
    hh: list[dict[str, Any]] = []
    for i, area in enumerate(["农村", "城市", "农村", "城市"]):
        hh.append(
            {
                "户类型": "脱贫户",
                "低保类别": area,
                "低保起始月": "2022-01",
                "家庭月人均收入": ["300", "500", "595", "120.50"][i],
                "行政村": ["金花村", "永福村"][i % 2],
                "members": [
                    {"姓名": f"户主{i}", "与户主关系": "户主", "born": "1950-03-01", "低保在保": "是",
                     "disability": "12", "务工地点": "市外"},
                    {"姓名": f"孩子{i}", "与户主关系": "子女", "born": "2011-05-01", "低保在保": "是",
                     "在校学段": "初中", "参加城乡居民医保": "是"},
                    {"姓名": f"配偶{i}", "与户主关系": "配偶", "born": "1985-05-01", "sex": "女",
                     "务工地点": "市外"},
                ],
            }
        )  # fmt: skip
    hh.append(
        {"户类型": "一般农户", "members": [{"姓名": "特困老人", "与户主关系": "户主", "born": "1940-01-01", "特困人员": "是"}]}
    )  # fmt: skip
    return write_roster(household_rows(hh), path)


@pytest.mark.parametrize("text,period", EDITS)
def test_a_roster_every_edit_changes(
    tmp_path: Path, folders: dict[str, Path], text: str, period: str
) -> None:
    roster = rich_roster(tmp_path / "roster.csv")
    check_against_two_evaluates(roster, period, text, folders[text], tmp_path)
    assert len(read_csv(tmp_path / "impact" / "households.csv")) > 0  # the edit did change something


def explained_fen(roster: Path, period: str, household: str, *args: str) -> int:
    code, out, err = run(
        "explain", str(roster), "--period", period, "--household", household, "--json", *args
    )
    assert code == 0, err
    report = json.loads(out)
    return sum(fen(o["金额"]) for p in report["项目"] for d in p["日期"] for o in d["对象"])


@pytest.mark.parametrize("text,period", [EDITS[1], EDITS[4], EDITS[6]])
def test_every_changed_household_is_explained_under_both_scenarios(
    tmp_path: Path, folders: dict[str, Path], text: str, period: str
) -> None:
    roster = rich_roster(tmp_path / "roster.csv")
    out, _ = impact(roster, period, tmp_path / "impact", "--set", text)
    rows = read_csv(out / "households.csv")
    assert rows
    for r in rows[:3]:
        h = r["户编号"]
        assert explained_fen(roster, period, h) == fen(r["基线金额"])
        assert explained_fen(roster, period, h, "--rules", str(folders[text])) == fen(r["测算金额"])
        assert explained_fen(roster, period, h, "--set", text) == fen(r["测算金额"])


def test_a_second_rulebook_gives_what_the_same_edit_gives(tmp_path: Path, folders: dict[str, Path]) -> None:
    text, period = EDITS[2]
    roster = rich_roster(tmp_path / "roster.csv")
    by_set, _ = impact(roster, period, tmp_path / "set", "--set", text)
    by_rules, stdout = impact(roster, period, tmp_path / "rules-b", "--rules-b", str(folders[text]))
    for name in ("summary.csv", "villages.csv", "households.csv", "changes.csv", "gains.csv"):
        assert (by_set / name).read_bytes() == (by_rules / name).read_bytes(), name
    manifest = json.loads((by_rules / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reform"]["rules"]["folder"] == str(folders[text])
    assert manifest["reform"]["rules"]["content_sha256"] != manifest["baseline"]["rules"]["content_sha256"]
    assert "rules-2" in stdout


def test_a_second_rulebook_with_another_formula(tmp_path: Path) -> None:
    """A drafted notice that changes a rule (not only values) is evaluated on its own and still exact."""
    folder = tmp_path / "draft"
    write_edited_rulebook(
        folder, "tekun_basic_living", None, "1000", dt.date(2023, 1, 1), dt.date(2023, 12, 31)
    )
    path = folder / "dibao.yaml"
    text = path.read_text(encoding="utf-8")
    assert "+ priority_count * dibao_priority_addon[dibao_area]" in text
    path.write_text(text.replace("priority_count * dibao", "2 * priority_count * dibao"), encoding="utf-8")
    roster = rich_roster(tmp_path / "roster.csv")
    pa = evaluate(roster, "2023", tmp_path / "a")
    pb = evaluate(roster, "2023", tmp_path / "b", folder)
    out, _ = impact(roster, "2023", tmp_path / "impact", "--rules-b", str(folder))
    a, b = payments_by(pa, "项目"), payments_by(pb, "项目")
    for r in read_csv(out / "summary.csv")[:-1]:
        assert fen(r["差额"]) == b.get((r["项目"],), (0, 0))[1] - a.get((r["项目"],), (0, 0))[1]
    assert {r["项目"] for r in read_csv(out / "changes.csv")} == {"dibao", "tekun"}


def test_outputs_terminal_and_manifest(tmp_path: Path) -> None:
    roster = rich_roster(tmp_path / "roster.csv")
    out, stdout = impact(roster, "2024", tmp_path / "one", "--set", "dibao_standard[农村]=640@2024-09-01",
                         "--set", "dibao_standard[城市]=760@2024-09-01")  # fmt: skip
    again, _ = impact(roster, "2024", tmp_path / "two", "--set", "dibao_standard[农村]=640@2024-09-01",
                      "--set", "dibao_standard[城市]=760@2024-09-01")  # fmt: skip
    names = ["summary.csv", "villages.csv", "households.csv", "changes.csv", "gains.csv", "impact.xlsx"]
    for name in [*names, "rejects.csv"]:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name  # deterministic, xlsx included
    with zipfile.ZipFile(out / "impact.xlsx") as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet1 = z.read("xl/worksheets/sheet1.xml").decode()
    assert [s in workbook for s in ("汇总", "按村", "变化的户", "变动明细", "月均增加分布")] == [True] * 5
    households = read_csv(out / "households.csv")
    # 4 低保 households, 2 covered members each, gain 30 (农村) or 10 (城市) each a month for Sep–Dec 2024
    assert [(r["变化"], r["差额"], r["涉及项目"]) for r in households] == [
        ("增加", "240.00", "dibao"),
        ("增加", "80.00", "dibao"),
        ("增加", "240.00", "dibao"),
        ("增加", "80.00", "dibao"),
    ]
    assert "<v>640</v>" in sheet1  # amounts are numbers in the workbook (the 差额 640.00), not text
    assert "金额有变化的户 4 户: 增加 4 户,减少 0 户,新纳入 0 户,退出 0 户" in stdout
    assert [tuple(r.values()) for r in read_csv(out / "gains.csv")] == [("0–50", "2"), ("50–100", "2")]
    changes = read_csv(out / "changes.csv")
    assert len(changes) == 16 and changes[0]["发放月份"] == "2024-09"
    assert all("********" in r["证件号码"] for r in changes)  # masked: this is not a bank list
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reform"]["baseline_with_edits"][0] == {
        "set": "dibao_standard[农村]=640@2024-09-01",
        "parameter": "dibao_standard",
        "key": "农村",
        "value": "640.00",
        "from": "2024-09-01",
    }
    assert manifest["baseline"]["rules"]["content_sha256"] == RULEBOOK.content_hash
    assert set(manifest["outputs"]) == {*names, "rejects.csv"}


def test_gain_bands_are_per_month_and_exact_at_the_edges() -> None:
    import numpy as np

    diff = np.array([4999, 5000, 9999 * 2, 50000 * 3, 10**7, -100, 0], dtype=np.int64)
    months = np.array([1, 1, 2, 3, 1, 1, 1], dtype=np.int64)
    bands = gain_bands(diff, months)
    counts = dict(zip(bands["月均增加(元)"], bands["户数"], strict=True))
    assert counts["0–50"] == 1 and counts["50–100"] == 2 and counts["500 以上"] == 2
    assert len(bands) == 11 and sum(counts.values()) == 5


@pytest.mark.parametrize(
    "args,message",
    [
        (["--set", "dibao_standrd[农村]=650@2023-09-01"], "没有参数 dibao_standrd,是否想写 dibao_standard?"),
        (["--set", "dibao_standard[郊区]=650@2023-09-01"], "没有键 '郊区'(可用的键: 城市 / 农村)"),
        (["--set", "dibao_standard=650@2023-09-01"], "请写出键,如 dibao_standard[城市]=金额@日期"),
        (["--set", "tekun_basic_living[城市]=650@2023-09-01"], "是单个金额,不按键分表"),
        (["--set", "dibao_standard[农村]=650@2024-01-01"], "不在期间 2023(2023-01-01 至 2023-12-31)之内"),
        (["--set", "dibao_standard[农村]=650.005@2023-09-01"], "金额 '650.005' 应为非负、最多两位小数"),
        (["--set", "dibao_standard[农村]=-5@2023-09-01"], "应为非负"),
        (["--set", "tekun_basic_living=100000000.01@2023-09-01"], "超出参数的上限 100000000 元"),
        (
            ["--set", "dibao_standard[农村]=99999999@2023-09-01"],
            "改后规则 dibao: 一笔发放最多 100,000,000 元",
        ),
        (["--set", "dibao_standard[农村]=650@2023-9-1"], "日期 '2023-9-1' 应为 YYYY-MM-DD"),
        (["--set", "dibao_standard[农村]=650"], "写法不对"),
        (
            ["--set", "tekun_basic_living=1@2023-03-01", "--set", "tekun_basic_living=2@2023-03-01"],
            "同一日期",
        ),
    ],
)
def test_refused_edits_exit_4_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    roster = rich_roster(tmp_path / "roster.csv")
    code, _, err = run("impact", str(roster), "--period", "2023", "--out", str(tmp_path / "out"), *args)
    assert code == 4, err
    assert err.startswith("错误: --set ") and message in err
    assert not (tmp_path / "out").exists()


def test_set_and_rules_b_are_one_or_the_other(tmp_path: Path) -> None:
    roster = rich_roster(tmp_path / "roster.csv")
    base = ["impact", str(roster), "--period", "2023", "--out", str(tmp_path / "out")]
    assert run(*base)[0] == 2
    code, _, err = run(*base, "--set", "tekun_basic_living=1@2023-03-01", "--rules-b", str(tmp_path))
    assert code == 2 and "二者选一" in err


def test_edits_split_the_history_and_restore_it_after_the_period() -> None:
    period = parse_period("2023")
    rb = apply_edits(RULEBOOK, [parse_edit("dibao_standard[城市]=700@2023-03-15")], period)
    p = rb.params["dibao_standard"]
    assert p.fen_at(dt.date(2023, 3, 14)) == {"城市": 71700, "农村": 58100}
    assert p.fen_at(dt.date(2023, 3, 15)) == {"城市": 70000, "农村": 58100}
    assert p.fen_at(dt.date(2023, 9, 1)) == {"城市": 70000, "农村": 60000}  # 农村 still changes on 09-01
    assert p.fen_at(dt.date(2024, 1, 1)) == {"城市": 73500, "农村": 60000}  # the history resumes
    assert p.fen_at(dt.date(2024, 9, 1)) == {"城市": 75000, "农村": 61000}
    assert RULEBOOK.params["dibao_standard"].fen_at(dt.date(2023, 3, 15)) == {"城市": 71700, "农村": 58100}
    later_first = apply_edits(
        RULEBOOK,
        [parse_edit("tekun_basic_living=2@2023-09-01"), parse_edit("tekun_basic_living=1@2023-03-01")],
        period,
    )
    t = later_first.params["tekun_basic_living"]
    assert [t.fen_at(dt.date(2023, m, 1)) for m in (2, 3, 9, 12)] == [93200, 100, 200, 200]
    assert t.fen_at(dt.date(2024, 1, 1)) == RULEBOOK.params["tekun_basic_living"].fen_at(dt.date(2024, 1, 1))


def test_rejected_rows_are_reported_and_input_errors_keep_their_codes(tmp_path: Path) -> None:
    roster = rich_roster(tmp_path / "roster.csv")
    rows = read_csv(roster)
    rows[-1]["证件号码"] = "123"  # the 特困 household's only member
    write_roster(rows, roster)
    out, stdout = impact(roster, "2023", tmp_path / "out", "--set", "tekun_basic_living=1000@2023-09-01")
    assert "读入 13 行:采用 12 行,拒绝 1 行" in stdout
    assert [r["原因代码"] for r in read_csv(out / "rejects.csv")] == ["ID_FORMAT"]
    assert read_csv(out / "households.csv") == []  # the only 特困 household was rejected
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["input"]["rows_accepted"], manifest["input"]["rows_rejected"]) == (12, 1)
    edit = ["--set", "tekun_basic_living=1000@2023-09-01"]
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    assert run("impact", str(junk), "--period", "2023", "--out", str(tmp_path / "j"), *edit)[0] == 3
    assert run("impact", str(roster), "--period", "2023", "--out", str(out), *edit)[0] == 5  # not empty
    assert run("impact", str(roster), "--period", "2030", "--out", str(tmp_path / "k"), *edit)[0] == 4
