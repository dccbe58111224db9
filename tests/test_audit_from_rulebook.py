"""The auditor reads the rulebook, not a copy of it: change a definition's condition in the rule files and the
findings follow, with no Python edited. The 低保 income condition `<` becomes `<=` in a copied rulebook."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import household_rows
from subsidy_engine.audit.findings import audit_full
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook

# 2023-01..08 the 农村 standard is 581.00, from 2023-09 600.00 (bundled rulebook)
AT_STANDARD = {"低保类别": "农村", "低保起始月": "2021-01", "家庭月人均收入": "581"}
ABOVE = {"低保类别": "农村", "低保起始月": "2021-01", "家庭月人均收入": "650"}
MONTHS_1_8 = [f"2023-{m:02d}" for m in range(1, 9)]


def _roster():  # type: ignore[no-untyped-def]
    households = [
        {  # H001: income exactly at the standard until August; a member of 75 gets the 30.00 add-on
            **AT_STANDARD,
            "members": [{"姓名": "甲一", "与户主关系": "户主", "低保在保": True, "born": "1948-01-01"}],
        },
        {  # H002: above the standard all year
            **ABOVE,
            "members": [{"姓名": "乙一", "与户主关系": "户主", "低保在保": True, "born": "1948-02-02"}],
        },
    ]
    return roster_from_records(household_rows(households), source="two-dibao.csv")


def _at_or_below(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, folder)
    path = folder / "definitions.yaml"
    text = path.read_text(encoding="utf-8")
    old = "income_per_capita_month < dibao_standard[dibao_area]"
    assert text.count(old) == 1
    path.write_text(
        text.replace(old, "income_per_capita_month <= dibao_standard[dibao_area]"), encoding="utf-8"
    )
    return folder


def _dibao_months(res, household: str) -> list[str]:  # type: ignore[no-untyped-def]
    p = res.run.payments
    return sorted(p.loc[(p["项目"] == "dibao") & (p["户编号"] == household), "发放月份"])


def _income_finding(res, household: str) -> str | None:  # type: ignore[no-untyped-def]
    f = res.findings
    rows = f[(f["代码"] == "DIBAO_INCOME_NOT_BELOW_STANDARD") & (f["户编号"] == household)]
    assert len(rows) <= 1
    return rows["证据"].iat[0] if len(rows) else None


def test_bundled_rule_at_the_standard_is_not_paid_and_is_a_finding() -> None:
    res = audit_full(_roster(), "2023", load_rulebook())
    assert _dibao_months(res, "H001") == [f"2023-{m:02d}" for m in range(9, 13)]
    assert (
        _income_finding(res, "H001")
        == "低保类别 农村;家庭月人均收入 581.00 元 ≥ 农村低保标准 581.00 元(2023-01至2023-08)"
    )
    assert _dibao_months(res, "H002") == []
    assert _income_finding(res, "H002") is not None


def test_changed_rule_changes_engine_and_auditor_together(tmp_path: Path) -> None:
    res = audit_full(_roster(), "2023", load_rulebook(_at_or_below(tmp_path)))
    # the engine now pays H001 in January–August: 1 × (581.00 − 581.00) + 30.00 add-on
    p = res.run.payments
    h1 = p[(p["项目"] == "dibao") & (p["户编号"] == "H001")]
    assert list(h1["发放月份"]) == [f"2023-{m:02d}" for m in range(1, 13)]
    assert list(h1.loc[h1["发放月份"].isin(MONTHS_1_8), "金额"]) == ["30.00"] * 8
    # and the auditor no longer reports H001, while H002 (above the standard) is still reported all year
    assert _income_finding(res, "H001") is None
    assert _income_finding(res, "H002") == (
        "低保类别 农村;家庭月人均收入 650.00 元 ≥ 农村低保标准 581.00 元(2023-01至2023-08);"
        "家庭月人均收入 650.00 元 ≥ 农村低保标准 600.00 元(2023-09至2023-12)"
    )
    # agreement: H001 is paid every month and never reported; H002 is reported every month and never paid
    assert _dibao_months(res, "H002") == []
