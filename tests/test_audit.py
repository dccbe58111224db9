"""Findings: each code has a roster (built here with household_rows) and a paid list that trigger it; the clean
seed, audited against its own computed payments, yields no false findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from audit_helpers import SEED
from helpers import household_rows, make_id, run
from subsidy_engine.audit.diff import PaymentList, from_run
from subsidy_engine.audit.findings import FINDING_COLUMNS, audit, audit_full, finding_titles
from subsidy_engine.roster.read import read_roster, roster_from_records
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.output import write_csv
from subsidy_engine.run.pipeline import evaluate_roster

TITLES = finding_titles()
PROGRAMS = {p.id: p.title for p in load_rulebook().programs}  # the evidence names programs by these
DIBAO = {"低保类别": "农村", "低保起始月": "2021-01", "家庭月人均收入": "200"}
BAD_ID = make_id("1970-01-01", 900)[:-1] + ("0" if make_id("1970-01-01", 900)[-1] != "0" else "1")
TWICE = make_id("1975-05-05", 901)


def _households() -> list[dict[str, Any]]:
    return [
        {  # H001: a 特困 member also 低保在保, with a disability certificate
            **DIBAO,
            "members": [
                {"姓名": "甲一", "与户主关系": "户主", "低保在保": True, "born": "1960-01-01"},
                {
                    "姓名": "甲二",
                    "与户主关系": "父母",
                    "低保在保": True,
                    "特困人员": True,
                    "born": "1940-02-02",
                    "disability": "12",
                },
            ],
        },
        {  # H002: the 户主 dies in May; the household stays eligible
            **DIBAO,
            "members": [
                {"姓名": "乙一", "与户主关系": "户主", "死亡日期": "2023-05-10", "born": "1950-01-01"},
                {"姓名": "乙二", "与户主关系": "配偶", "低保在保": True, "born": "1952-03-03"},
            ],
        },
        {  # H003: a 特困 person who dies in October
            "members": [
                {
                    "姓名": "丙一",
                    "与户主关系": "户主",
                    "特困人员": True,
                    "死亡日期": "2023-10-15",
                    "born": "1938-04-04",
                }
            ],
        },
        {
            **DIBAO,
            "家庭有机动车": True,
            "members": [{"姓名": "丁一", "与户主关系": "户主", "低保在保": True, "born": "1965-01-01"}],
        },
        {
            **DIBAO,
            "members": [
                {"姓名": "戊一", "与户主关系": "户主", "低保在保": True, "born": "1966-01-01"},
                {"姓名": "戊二", "与户主关系": "子女", "财政供养人员": True, "born": "1990-01-01"},
            ],
        },
        {
            **DIBAO,
            "家庭月人均收入": "590",
            "members": [{"姓名": "己一", "与户主关系": "户主", "低保在保": True, "born": "1967-01-01"}],
        },
        {  # H007: a grade-1 certificate valid to the end of June
            "members": [
                {
                    "姓名": "庚一",
                    "与户主关系": "户主",
                    "disability": "41",
                    "残疾证有效期至": "2023-06-30",
                    "born": "1970-07-07",
                }
            ],
        },
        {"members": [{"姓名": "辛一", "与户主关系": "户主", "证件号码": BAD_ID}]},
        {"members": [{"姓名": "壬一", "与户主关系": "户主", "证件号码": TWICE}]},
        {"members": [{"姓名": "壬一", "与户主关系": "户主", "证件号码": TWICE}]},
    ]


def _line(month: str, program: str, hh: str, pid: str, fen: int) -> dict[str, object]:
    return {
        "发放月份": month,
        "项目": program,
        "户编号": hh,
        "证件号码": pid,
        "姓名": "",
        "乡镇": "兴隆镇",
        "行政村": "金花村",
        "_fen": fen,
        "_row": 0,
    }


@pytest.fixture(scope="module")
def case() -> tuple[pd.DataFrame, list[dict[str, Any]], pd.DataFrame]:
    rows = household_rows(_households())
    raw = roster_from_records(rows)
    computed = evaluate_roster(raw, "2023").payments
    ids = {r["姓名"]: r["证件号码"] for r in rows}
    paid = from_run(computed, "实发").lines
    care = (paid["项目"] == "disability_care") & (paid["户编号"] == "H007")
    paid.loc[care & (paid["发放月份"] == "2023-01"), "_fen"] = 10000  # 90 → 100
    paid.loc[care & (paid["发放月份"] == "2023-02"), "_fen"] = 8000  # 90 → 80
    paid = paid[~(care & (paid["发放月份"] == "2023-03"))]
    extra = [
        _line("2023-07", "disability_care", "H007", ids["庚一"], 9000),  # certificate expired
        _line("2023-11", "tekun", "H003", ids["丙一"], 95500),  # after death
        _line("2023-01", "disability_care", "H001", ids["甲二"], 8000),  # to a 特困 person
        _line("2023-01", "dibao", "H006", ids["己一"], 50000),  # income above the standard
    ]
    paid = pd.concat([paid, pd.DataFrame(extra)], ignore_index=True)
    findings = audit(raw, "2023", None, PaymentList(paid, pd.DataFrame(), "实发"))
    return findings, rows, paid


def _one(findings: pd.DataFrame, code: str) -> dict[str, str]:
    hits = findings[findings["代码"] == code]
    assert len(hits) == 1, hits
    return dict(hits.iloc[0])


def test_every_finding_code_is_triggered_by_its_fixture(case: Any) -> None:
    findings, _, _ = case
    assert list(findings.columns) == FINDING_COLUMNS
    assert sorted(set(findings["代码"])) == sorted(TITLES)
    assert all(findings["标题"] == findings["代码"].map(TITLES))


def test_invalid_id_and_duplicates_come_from_the_rejected_rows(case: Any) -> None:
    findings, _, _ = case
    f = _one(findings, "ID_INVALID")
    assert (f["户编号"], f["证件号码"], f["涉及金额"]) == ("H008", BAD_ID, "0.00")
    assert f["证据"].startswith("第 12 行 辛一 证件号码") and "校验" in f["证据"]
    f = _one(findings, "PERSON_DUPLICATE")
    assert (f["户编号"], f["证件号码"]) == ("H009;H010", TWICE)
    assert f["证据"] == "证件号码出现 2 次,分属 2 户:第 13 行 户 H009 壬一;第 14 行 户 H010 壬一"


def test_payment_line_findings(case: Any) -> None:
    findings, rows, _ = case
    ids = {r["姓名"]: r["证件号码"] for r in rows}
    f = _one(findings, "PAID_AFTER_DEATH")
    assert (f["证件号码"], f["涉及金额"]) == (ids["丙一"], "955.00")
    assert f["证据"] == f"丙一 死亡日期 2023-10-15;{PROGRAMS['tekun']} 实发月份 2023-11 在死亡之后"
    f = _one(findings, "HEAD_DECEASED")
    assert (f["户编号"], f["证件号码"]) == ("H002", ids["乙一"])
    assert (
        f["证据"]
        == f"户主 乙一 死亡日期 2023-05-10;{PROGRAMS['dibao']} 实发月份 2023-06至2023-12 仍以其为领款人"
    )
    f = _one(findings, "DISABILITY_TO_TEKUN")
    assert (f["证件号码"], f["涉及金额"]) == (ids["甲二"], "80.00")
    f = _one(findings, "CERT_EXPIRED")
    assert (f["证件号码"], f["涉及金额"]) == (ids["庚一"], "90.00")
    assert (
        f["证据"]
        == f"庚一 残疾证有效期至 2023-06-30;{PROGRAMS['disability_care']} 实发月份 2023-07 在有效期之后"
    )


def test_dibao_household_findings_name_the_reason_and_months(case: Any) -> None:
    findings, _, _ = case
    tekun = _one(findings, "TEKUN_AND_DIBAO")
    assert tekun["户编号"] == "H001" and tekun["证据"].startswith("甲二 特困人员=是 且 低保在保=是")
    assert Fraction(tekun["涉及金额"]) > 0
    assert _one(findings, "DIBAO_VEHICLE")["证据"] == "低保类别 农村;家庭有机动车=是(2023-01至2023-12)"
    assert (
        _one(findings, "DIBAO_PUBLIC_PAYROLL")["证据"]
        == "低保类别 农村;财政供养人员: 戊二(子女)(2023-01至2023-12)"
    )
    f = _one(findings, "DIBAO_INCOME_NOT_BELOW_STANDARD")
    assert f["证据"] == "低保类别 农村;家庭月人均收入 590.00 元 ≥ 农村低保标准 581.00 元(2023-01至2023-08)"
    assert f["涉及金额"] == "500.00"  # what was paid to it in a failing month


def test_diff_findings_carry_the_amount_at_risk(case: Any) -> None:
    findings, _, _ = case
    got = findings[findings["代码"].isin(["OVERPAID", "UNDERPAID", "UNPAID_ELIGIBLE"])]
    assert got[["代码", "户编号", "涉及金额"]].values.tolist() == [
        ["OVERPAID", "H007", "10.00"],
        ["UNDERPAID", "H007", "10.00"],
        ["UNPAID_ELIGIBLE", "H007", "90.00"],
    ]
    extra = findings[findings["代码"] == "PAID_NOT_ELIGIBLE"]
    assert sorted(extra["涉及金额"]) == ["500.00", "80.00", "90.00", "955.00"]
    over = _one(findings, "OVERPAID")["证据"]
    assert over == f"庚一 {PROGRAMS['disability_care']} 2023-01:应发 90.00,实发 100.00", over


def test_no_evidence_names_a_program_by_its_code(case: Any) -> None:
    """The 证据 a person reads names programs by their titles (the codes stay in the machine columns)."""
    findings, _, _ = case
    assert len(findings) >= len(TITLES)
    for code in PROGRAMS:
        assert not findings["证据"].str.contains(code, regex=False).any(), code
    named = findings["证据"].str.contains("|".join(PROGRAMS.values()))
    assert set(findings.loc[named, "代码"]) >= {"PAID_AFTER_DEATH", "OVERPAID", "PAID_NOT_ELIGIBLE"}


def test_without_a_paid_list_findings_come_from_the_roster_and_the_computed_lines() -> None:
    findings = audit(roster_from_records(household_rows(_households())), "2023")
    assert sorted(set(findings["代码"])) == sorted(
        [
            "ID_INVALID",
            "PERSON_DUPLICATE",
            "HEAD_DECEASED",
            "TEKUN_AND_DIBAO",
            "DIBAO_VEHICLE",
            "DIBAO_PUBLIC_PAYROLL",
            "DIBAO_INCOME_NOT_BELOW_STANDARD",
        ]
    )
    dibao = findings[findings["代码"].str.startswith("DIBAO_")]
    assert set(dibao["涉及金额"]) == {"0.00"}


def test_audit_command_writes_findings_and_a_workbook_that_opens(tmp_path: Path, case: Any) -> None:
    _, rows, paid = case
    roster = tmp_path / "roster.csv"
    pd.DataFrame(rows).to_csv(roster, index=False)
    paid_file = tmp_path / "paid.csv"
    out_paid = paid.drop(columns=["_row"]).assign(金额=[f"{v // 100}.{v % 100:02d}" for v in paid["_fen"]])
    write_csv(out_paid.drop(columns=["_fen"]), paid_file)
    code, out, err = run(
        "audit", str(roster), "--period", "2023", "--paid", str(paid_file), "--out", str(tmp_path / "a")
    )
    assert code == 1, err  # findings (and differences with the paid list): exit 1, as diff does
    assert out.startswith("期间 2023  发现 ")
    assert "PAID_AFTER_DEATH                 死亡后仍发放" in out
    assert BAD_ID not in out and TWICE not in out  # the terminal shows codes and counts, not IDs
    wb = openpyxl.load_workbook(tmp_path / "a" / "audit.xlsx")
    assert wb.sheetnames[0] == "汇总" and set(TITLES) <= set(wb.sheetnames)
    assert wb.sheetnames[-4:] == ["差异按项目", "差异按行政村", "差异明细", "无法读取的行"]
    summary = [[c.value for c in r] for r in wb["汇总"].iter_rows()]
    assert summary[0] == ["代码", "项目", "条数", "金额"]
    assert [c.value for c in wb["OVERPAID"][1]] == FINDING_COLUMNS
    findings = pd.read_csv(tmp_path / "a" / "findings.csv", dtype=str, keep_default_na=False)
    assert sorted(set(findings["代码"])) == sorted(TITLES)
    assert list(findings.columns) == FINDING_COLUMNS
    evidence = " ".join(findings["证据"]) + " ".join(str(c.value) for c in wb["PAID_AFTER_DEATH"]["E"])
    assert PROGRAMS["tekun"] in evidence and not any(f" {code} " in evidence for code in PROGRAMS)


@pytest.fixture(scope="module")
def seed() -> pd.DataFrame:
    raw = read_roster(SEED)
    result = audit_full(raw, "2023", None, from_run(evaluate_roster(raw, "2023").payments, "实发"))
    assert result.diff is not None and result.diff.agree
    return result.findings


def test_the_seed_paid_as_computed_has_no_false_findings(seed: pd.DataFrame) -> None:
    assert set(seed["代码"]) <= {
        "HEAD_DECEASED",
        "DIBAO_VEHICLE",
        "DIBAO_PUBLIC_PAYROLL",
        "DIBAO_INCOME_NOT_BELOW_STANDARD",
    }
    assert {"DIBAO_VEHICLE", "DIBAO_PUBLIC_PAYROLL", "DIBAO_INCOME_NOT_BELOW_STANDARD"} <= set(seed["代码"])


def test_each_seed_dibao_finding_is_real(seed: pd.DataFrame) -> None:
    """Checked against the roster itself, independently of the engine's facts."""
    people = pd.read_excel(SEED, dtype=str, engine="calamine").fillna("")
    households = people.groupby("户编号")
    for code, hh in seed[seed["代码"].str.startswith("DIBAO_")][["代码", "户编号"]].values.tolist():
        h = households.get_group(hh)
        assert set(h["低保类别"]) == {"农村"} or set(h["低保类别"]) == {"城市"}
        if code == "DIBAO_VEHICLE":
            assert set(h["家庭有机动车"]) == {"是"}
        elif code == "DIBAO_PUBLIC_PAYROLL":
            assert (h["财政供养人员"] == "是").any()
        else:
            income = Fraction(h["家庭月人均收入"].iloc[0])
            assert income >= (581 if h["低保类别"].iloc[0] == "农村" else 717)
    heads = seed[seed["代码"] == "HEAD_DECEASED"]
    for pid in heads["证件号码"]:
        person = people[people["证件号码"] == pid].iloc[0]
        assert person["与户主关系"] == "户主" and person["死亡日期"] != ""
    assert np.all(seed["涉及金额"][seed["代码"].str.startswith("DIBAO_")] == "0.00")


from fractions import Fraction  # noqa: E402


def test_the_audit_workbook_is_deterministic_with_exact_amounts(tmp_path: Path) -> None:
    from subsidy_engine.audit.findings import write_workbook

    raw = roster_from_records(household_rows(_households()))
    paid = from_run(evaluate_roster(raw, "2023").payments, "实发")
    for name in ("a.xlsx", "b.xlsx"):
        write_workbook(audit_full(raw, "2023", None, paid), tmp_path / name)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["汇总"]
    due = Fraction(int(paid.lines["_fen"].sum()), 100)
    assert Fraction(str(ws["D2"].value)) == due and ws["D2"].number_format == "#,##0.00"
    assert ws["B4"].value == "实发 − 应发" and Fraction(str(ws["D4"].value)) == 0
