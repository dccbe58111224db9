"""`subsidy explain` by default: plain Chinese a caseworker can read, with no rule identifier and every amount in 元.

The condition trace (`--detail`) is tests/test_explain.py.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from helpers import household_rows, run
from subsidy_engine.roster.schema import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"
RURAL = ROOT / "fixtures" / "small" / "rural-dibao-severely-disabled.csv"
WIFE = "500119196011022020"

# ASCII words: none may appear in the default output (no rule id, field or parameter name, no English). Digits,
# dates and money are not words; the only letter a 证件号码 may hold is a final X, which the pattern skips.
WORD = re.compile(r"[A-Za-z_]{2,}")
MONEY = re.compile(r"\d[\d,]*\.\d\d(?! 元)")  # an amount not followed by " 元"


def roster(tmp_path: Path, households: list[dict[str, Any]]) -> Path:
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([c.name for c in COLUMNS])
        for row in household_rows(households):
            w.writerow([row.get(c.name, "") for c in COLUMNS])
    return path


def plain(*args: str) -> str:
    code, out, err = run("explain", *args)
    assert code == 0, err
    assert WORD.findall(out) == [], WORD.findall(out)
    assert MONEY.findall(out) == [], MONEY.findall(out)
    return out


def test_a_seed_household_in_plain_chinese() -> None:
    out = plain(str(SEED), "--period", "2023", "--household", "5001192030040807")
    assert out.startswith(
        "户编号 5001192030040807  兴隆镇 金禾村  期间 2023 年\n"
        "成员: 蔡宇(户主)、向燕(配偶)、蔡伦(父母)、蔡鑫(子女)、蔡雪(子女)\n"
        "规则库: 重庆市南川区 困难群众救助与惠民补贴规则库(2022—2026年)\n"
        "\n"
        "一、最低生活保障金(按户发放,领款人 蔡宇(户主))\n"
        "  享受:2023-01 至 2023-08 每月 1,388.00 元,2023-09 至 2023-12 每月 1,464.00 元,全年 16,960.00 元。\n"
        "  怎么算:\n"
        "    2023-01 至 2023-08: 户内在保人数 4 × (城乡最低生活保障标准(农村) 581.00 元 − 家庭月人均收入 249.00 元)"
        " + 户内在保重点保障对象人数 2 × 低保重点保障对象每人每月加发金额(农村) 30.00 元 = 1,388.00 元\n"
    )
    assert (
        "    城乡最低生活保障标准(农村) 600.00 元/人·月:自 2023-09-01 起,依据 渝民发〔2023〕10号,"
        "假定(数值正式,起始月份为假定)\n" in out
    )
    assert (
        "  蔡宇(户主)、向燕(配偶)、蔡伦(父母)、蔡鑫(子女)、蔡雪(子女): 不享受。不是特困人员,"
        "不符合特困人员基本生活费条件。\n" in out
    )
    assert "  蔡雪(子女): 享受:2023-03、2023-09 每次 1,000.00 元,全年 2,000.00 元。\n" in out
    # a near miss: 15 years old, the transport aid needs 16
    assert (
        "  蔡雪(子女): 不享受。未满 16 岁(年龄 15 岁),不符合外出务工交通补助条件。\n"
        "    提示: 将于 2024-08-22 满 16 岁,届时满足这一条件\n" in out
    )


INCOME_650 = [
    {
        "低保类别": "农村",
        "低保起始月": "2020-01",
        "家庭月人均收入": "650",
        "members": [{"姓名": "张大山", "与户主关系": "户主", "born": "1970-03-01", "低保在保": True}],
    }
]


def test_why_not_the_failed_condition_with_its_values(tmp_path: Path) -> None:
    path = roster(tmp_path, INCOME_650)
    out = plain(str(path), "--period", "2023-08", "--household", "H001")
    assert (
        "一、最低生活保障金(按户发放,领款人 张大山(户主))\n"
        "  不享受。家庭月人均收入 650.00 元不低于农村低保标准 581.00 元,不符合最低生活保障金条件。\n"
        "  依据的标准:\n"
        "    城乡最低生活保障标准(农村) 581.00 元/人·月:自 2022-09-01 起,依据 渝民〔2022〕187号,正式\n"
    ) in out
    assert "提示" not in out.split("二、")[0]  # 69.01 above 581.00: more than 10 %, no near miss


def test_a_near_miss_says_what_would_change_it(tmp_path: Path) -> None:
    path = roster(tmp_path, INCOME_650)
    out = plain(str(path), "--period", "2023", "--household", "H001")
    dibao = out.split("二、")[0]
    assert (
        "  不享受。2023-01 至 2023-08 家庭月人均收入 650.00 元不低于农村低保标准 581.00 元;"
        "2023-09 至 2023-12 家庭月人均收入 650.00 元不低于农村低保标准 600.00 元;"
        "不符合最低生活保障金条件。\n"
        "  提示(2023-09 至 2023-12): 家庭月人均收入再减少 50.01 元(至 599.99 元)即满足这一条件\n"
    ) in dibao


def test_a_certificate_that_expires_is_named_before_and_after(tmp_path: Path) -> None:
    households = [
        {
            "低保类别": "农村",
            "低保起始月": "2020-01",
            "家庭月人均收入": "300",
            "members": [
                {
                    "姓名": "李四",
                    "与户主关系": "户主",
                    "born": "1960-05-01",
                    "低保在保": True,
                    "disability": 12,
                    "残疾证有效期至": "2023-10-15",
                }
            ],
        }
    ]
    out = plain(str(roster(tmp_path, households)), "--period", "2023", "--household", "H001")
    living = out.split("三、")[1].split("四、")[0]
    assert living == (
        "困难残疾人生活补贴(按人发放)\n"
        "  李四(户主): 享受:2023-01 至 2023-10 每月 80.00 元,全年 800.00 元;"
        "未享受: 2023-11 至 2023-12 残疾证已过期(有效期至 2023-10-15)。\n"
        "    怎么算: 困难残疾人生活补贴标准 80.00 元\n"
        "    提示: 残疾证有效期至 2023-10-15,到期后须换发新证才能继续享受\n"
        "    依据的标准:\n"
        "      困难残疾人生活补贴标准 80.00 元/人·月:自 2022-10-01 起,"
        "依据 重庆市残疾人两项补贴标准(2022-10-01起),正式\n"
        "\n"
    )


def test_look_up_by_name(tmp_path: Path) -> None:
    by_id = plain(str(RURAL), "--period", "2023", "--person", WIFE)
    assert plain(str(RURAL), "--period", "2023", "--name", "刘桂兰") == by_id
    twins = [
        {"户编号": "H001", "members": [{"姓名": "王芳", "与户主关系": "户主", "born": "1980-01-01"}]},
        {"户编号": "H002", "members": [{"姓名": "王芳", "与户主关系": "户主", "born": "1990-02-02"}]},
    ]
    path = roster(tmp_path, twins)
    code, out, err = run("explain", str(path), "--period", "2023", "--name", "王芳")
    assert code == 2 and out == ""
    assert "名册中有 2 人姓名为 王芳" in err and "H001" in err and "H002" in err
    assert "500119********" in err and not re.search(r"\d{17}[\dX]", err)  # masked, never whole
    code, _, err = run("explain", str(path), "--period", "2023", "--name", "王五")
    assert code == 2 and "没有姓名为 王五 的人" in err
    code, _, err = run("explain", str(path), "--period", "2023", "--name", "王芳", "--household", "H001")
    assert code == 2 and "三选一" in err


def test_json_adds_the_words_and_keeps_the_trace() -> None:
    code, out, err = run("explain", str(RURAL), "--period", "2023-09", "--person", WIFE, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["规则库名称"].startswith("重庆市南川区")
    dibao = report["项目"][0]["日期"][0]["对象"][0]
    assert dibao["说明"]["金额"] == [
        "户内在保人数 3 × (城乡最低生活保障标准(农村) 600.00 元 − 家庭月人均收入 260.00 元)"
        " + 户内在保重点保障对象人数 2 × 低保重点保障对象每人每月加发金额(农村) 30.00 元 = 1,080.00 元"
    ]
    assert dibao["规则"][0]["金额算式"].endswith("= 3 × (600.00 − 260.00) + 2 × 30.00 = 1080.00")
    tekun = report["项目"][1]["日期"][0]["对象"][0]
    assert (
        tekun["说明"]["原因"] == ["不是特困人员"]
        and tekun["不符合原因"] == "特困人员基本生活费: tekun 不成立"
    )
