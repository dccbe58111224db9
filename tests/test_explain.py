"""`subsidy explain --detail`: the exact condition trace for a named fixture, the JSON, and what is never shown.
The default plain-Chinese output is tests/test_explain_plain.py."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "fixtures" / "small"
RURAL = SMALL / "rural-dibao-severely-disabled.csv"
WIFE = "500119196011022020"  # 刘桂兰, grade-1 certificate
HEAD = "500119195804102018"  # 王德福
PUPIL = "500119201609202046"  # 王小雨
TEKUN = SMALL / "tekun-elderly-dies-in-october.csv"

DIBAO_2023_09 = """\
== 最低生活保障金(dibao) 2023-09(参考日期 2023-09-01) 王德福(户主): 符合,1080.00 元
  规则 低保金(按户发放给户主)(dibao): 采用
    条件(and): dibao_active and covered_count >= 1
      ✓ dibao_active — 低保户当月有效  [dibao_active = 是]
          ✓ dibao_in_period  [dibao_in_period = 是]
          ✓ not owns_vehicle  [owns_vehicle = 否]
          ✓ not household_any(alive and public_payroll)  [household_any(alive and public_payroll) = 否]
          ✓ income_per_capita_month < dibao_standard[dibao_area]  [income_per_capita_month = 260.00, dibao_standard[dibao_area] = 600.00, dibao_area = 农村]
      ✓ covered_count >= 1  [covered_count = 3]
    参数 dibao_priority_addon(低保重点保障对象每人每月加发金额) = 农村 30.00 元/人·月,自 2023-01-01,依据 低保重点保障对象加发(假定),假定
    参数 dibao_standard(城乡最低生活保障标准) = 农村 600.00 元/人·月,自 2023-09-01,依据 渝民发〔2023〕10号,假定
    金额 covered_count * (dibao_standard[dibao_area] - income_per_capita_month) + priority_count * dibao_priority_addon[dibao_area] = 3 × (600.00 − 260.00) + 2 × 30.00 = 1080.00
"""

CARE_2023_09 = """\
== 重度残疾人护理补贴(disability_care) 2023-09(参考日期 2023-09-01) 刘桂兰(配偶): 符合,90.00 元
  规则 重度残疾人护理补贴(一级)(disability_care_grade1): 采用
    条件(and): cert_valid and disability_grade == 1 and alive and not tekun
      ✓ cert_valid  [cert_valid = 是]
      ✓ disability_grade == 1  [disability_grade = 1]
      ✓ alive  [alive = 是]
      ✓ not tekun  [tekun = 否]
    参数 disability_care_grade1(一级重度残疾人护理补贴标准) = 90.00 元/人·月,自 2022-10-01,依据 重庆市残疾人两项补贴标准(2022-10-01起),正式
    金额 disability_care_grade1 = 90.00
  规则 重度残疾人护理补贴(二级)(disability_care_grade2): 不成立
    条件(and): cert_valid and disability_grade == 2 and alive and not tekun
      ✓ cert_valid  [cert_valid = 是]
      ✗ disability_grade == 2  [disability_grade = 1]
      ✓ alive  [alive = 是]
      ✓ not tekun  [tekun = 否]
"""


def blocks(text: str) -> dict[str, str]:
    """The explanation split at each `== ` heading, keyed by the heading's program and month."""
    out = {}
    for block in text.split("\n\n")[1:]:
        head = block.split("\n", 1)[0]
        out[head.split(")", 1)[0].split("(")[1] + " " + head.split(") ", 1)[1][:7]] = (
            block.rstrip("\n") + "\n"
        )
    return out


def test_the_dibao_and_the_care_allowance_of_september_exactly() -> None:
    code, out, err = run("explain", str(RURAL), "--period", "2023-09", "--person", WIFE, "--detail")
    assert code == 0, err
    assert out.startswith(
        "期间 2023-09  规则库 chongqing-nanchuan  户编号 500119101001\n"
        f"查询人 刘桂兰(配偶,证件号码 {WIFE})\n"
        "成员: 王德福(户主)、刘桂兰(配偶)、王小雨(孙子女)\n"
    )
    got = blocks(out)
    assert got["dibao 2023-09"] == DIBAO_2023_09
    assert got["disability_care 2023-09"] == CARE_2023_09


def test_an_ineligible_person_is_told_the_first_condition_that_failed() -> None:
    code, out, err = run(
        "explain", str(TEKUN), "--period", "2023-11", "--household", "500119103011", "--detail"
    )
    assert code == 0, err
    tekun = blocks(out)["tekun 2023-11"]
    assert tekun.startswith(
        "== 特困人员基本生活费(tekun) 2023-11(参考日期 2023-11-01) 赵老汉(户主): 不符合\n"
        "  不符合原因: 特困人员基本生活费: alive 不成立\n"
    )
    assert "      ✗ alive  [alive = 否]\n" in tekun
    dibao = blocks(out)["dibao 2023-11"]
    assert "不符合原因: 低保金(按户发放给户主): dibao_active(其中 dibao_in_period 不成立) 不成立" in dibao


def test_only_the_asked_persons_id_is_ever_printed() -> None:
    for detail in ((), ("--detail",)):
        code, out, _ = run("explain", str(RURAL), "--period", "2023", "--person", WIFE, *detail)
        assert code == 0
        assert WIFE in out and HEAD not in out and PUPIL not in out
        code, out, _ = run("explain", str(RURAL), "--period", "2023", "--household", "500119101001", *detail)
        assert code == 0
        assert not any(i in out for i in (WIFE, HEAD, PUPIL))


def test_json_for_machines() -> None:
    code, out, err = run("explain", str(RURAL), "--period", "2023", "--person", WIFE, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["查询人"] == {"姓名": "刘桂兰", "与户主关系": "配偶", "证件号码": WIFE}
    assert HEAD not in out and PUPIL not in out
    programs = {p["项目"]: p for p in report["项目"]}
    assert len(programs["dibao"]["日期"]) == 12 and len(programs["education_aid"]["日期"]) == 2
    september = programs["disability_care"]["日期"][8]["对象"][0]
    assert (september["符合"], september["金额"]) == (True, "90.00")
    grade2 = september["规则"][1]
    assert grade2["未通过"] == "disability_grade == 2 不成立"
    assert grade2["各条件"][1] == {
        "条件": "disability_grade == 2",
        "成立": False,
        "取值": {"disability_grade": "1"},
    }
    dibao_jan = programs["dibao"]["日期"][0]["对象"][0]
    assert dibao_jan["规则"][0]["金额算式"].endswith("= 3 × (581.00 − 260.00) + 2 × 30.00 = 1023.00")
    standard = next(p for p in dibao_jan["规则"][0]["参数"] if p["参数"] == "dibao_standard")
    assert standard["生效日期"] == "2022-09-01" and standard["状态"] == "正式"


def test_usage_errors() -> None:
    code, _, err = run("explain", str(RURAL), "--period", "2023")
    assert code == 2 and "--person" in err and "--name" in err
    code, _, err = run("explain", str(RURAL), "--period", "2023", "--person", "1", "--household", "2")
    assert code == 2
    code, _, err = run("explain", str(RURAL), "--period", "2023", "--person", "500119190001010000")
    assert code == 2 and "500119190001010000" in err
    code, _, err = run("explain", str(RURAL), "--period", "2027", "--person", WIFE)
    assert code == 4
