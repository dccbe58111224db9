"""Writes the bad rosters of this folder and expected.yaml (run from the repository root; deterministic)."""

import csv
import sys

import yaml

sys.path.insert(0, "tests")
from helpers import make_id
from subsidy_engine.roster.schema import COLUMNS

H = [c.name for c in COLUMNS]


def base():
    h1 = dict(户编号="H001", 乡镇="兴隆镇", 行政村="金花村", 户类型="脱贫户")
    return [
        {**h1, "姓名": "张一", "证件号码": make_id("1970-03-01", 1), "与户主关系": "户主"},
        {**h1, "姓名": "张二", "证件号码": make_id("1972-05-01", 2, False), "与户主关系": "配偶"},
        {
            **dict(户编号="H002", 乡镇="兴隆镇", 行政村="永福村", 户类型="一般农户"),
            "姓名": "李三",
            "证件号码": make_id("1985-07-09", 3),
            "与户主关系": "户主",
        },
    ]


cases = {}


def case(name, mutate, expect):
    rows = base()
    mutate(rows)
    cases[name] = (rows, expect)


good = make_id("1972-05-01", 2, False)
case(
    "id_checksum",
    lambda r: r[1].update(证件号码=good[:-1] + ("0" if good[-1] != "0" else "1")),
    ("3", "证件号码", "ID_CHECKSUM", "号码有误,请核对原件"),
)
case(
    "id_birth_date",
    lambda r: r[1].update(证件号码="50011919720230" + "0028"),
    ("3", "证件号码", "ID_BIRTH_DATE", "不是有效日期"),
)
case(
    "id_before_1900",
    lambda r: r[1].update(证件号码=make_id("1899-12-31", 2, False)),
    ("3", "证件号码", "ID_BIRTH_DATE", "早于1900年"),
)
case(
    "id_format", lambda r: r[1].update(证件号码="50011919720501"), ("3", "证件号码", "ID_FORMAT", "应为18位")
)
case(
    "id_duplicate",
    lambda r: r[2].update(证件号码=r[0]["证件号码"]),
    ("2", "证件号码", "ID_DUPLICATE", "与第 4 行重复"),
)
case(
    "cert_not_own",
    lambda r: r[1].update(残疾证号=r[0]["证件号码"] + "12"),
    ("3", "残疾证号", "CERT_NOT_OWN", "持证人本人"),
)
case(
    "cert_format",
    lambda r: r[1].update(残疾证号=r[1]["证件号码"] + "85"),
    ("3", "残疾证号", "CERT_FORMAT", "残疾类别(1–7)"),
)
case(
    "dibao_covered_not_dibao",
    lambda r: r[2].update(低保在保="是"),
    ("4", "低保在保", "DIBAO_COVERED_NOT_DIBAO", "非低保户"),
)
case(
    "dibao_from_required",
    lambda r: r[2].update(低保类别="农村", 家庭月人均收入="100"),
    ("4", "低保起始月", "DIBAO_FROM_REQUIRED", "低保起始月必填"),
)
case(
    "dibao_income_required",
    lambda r: r[2].update(低保类别="农村", 低保起始月="2022-01"),
    ("4", "家庭月人均收入", "DIBAO_INCOME_REQUIRED", "家庭月人均收入必填"),
)
case(
    "dibao_end_before_start",
    lambda r: r[2].update(低保类别="农村", 低保起始月="2022-05", 低保终止月="2022-04", 家庭月人均收入="0"),
    ("4", "低保终止月", "DIBAO_END_BEFORE_START", "早于低保起始月 2022-05"),
)
case(
    "grade_required",
    lambda r: r[2].update(在校学段="中职"),
    ("4", "年级", "GRADE_REQUIRED", "中职时年级必填"),
)
case("grade_range", lambda r: r[2].update(在校学段="小学", 年级="7"), ("4", "年级", "GRADE_RANGE", "1–6"))
case(
    "money_precision",
    lambda r: r[2].update(务工地点="市外", 往返车票金额="120.555"),
    ("4", "往返车票金额", "MONEY_PRECISION", "最多两位小数"),
)
case(
    "money_negative",
    lambda r: r[2].update(务工地点="市外", 往返车票金额="-20"),
    ("4", "往返车票金额", "MONEY_NEGATIVE", "不能为负数"),
)
case(
    "money_format",
    lambda r: r[2].update(务工地点="市外", 往返车票金额="1,200"),
    ("4", "往返车票金额", "BAD_MONEY", "千分位"),
)
case(
    "enum_unknown",
    lambda r: r[2].update(户类型="贫困户"),
    ("4", "户类型", "BAD_ENUM", "'贫困户' 不是允许的值"),
)
case("bool_unknown", lambda r: r[2].update(特困人员="有"), ("4", "特困人员", "BAD_BOOL", "应为 是/否"))
case(
    "date_not_calendar",
    lambda r: r[2].update(死亡日期="2023-02-30"),
    ("4", "死亡日期", "BAD_DATE", "不是有效的日历日期"),
)
case(
    "date_format", lambda r: r[2].update(死亡日期="2023.02.03"), ("4", "死亡日期", "BAD_DATE", "日期格式应为")
)
case(
    "month_format",
    lambda r: r[2].update(低保类别="农村", 低保起始月="2023-13", 家庭月人均收入="0"),
    ("4", "低保起始月", "BAD_MONTH", "月份格式应为"),
)
case(
    "death_before_birth",
    lambda r: r[2].update(死亡日期="1980-01-01"),
    ("4", "死亡日期", "DEATH_BEFORE_BIRTH", "早于出生日期 1985-07-09"),
)
case("required_blank", lambda r: r[2].update(姓名=""), ("4", "姓名", "REQUIRED", "姓名 为必填项"))
case(
    "household_mismatch",
    lambda r: r[1].update(行政村="永福村"),
    ("3", "行政村", "HOUSEHOLD_MISMATCH", "与户主行(第 2 行)的值 '金花村' 不一致"),
)
case(
    "household_no_head",
    lambda r: r[0].update(与户主关系="父母"),
    ("2", "与户主关系", "HOUSEHOLD_NO_HEAD", "没有与户主关系为“户主”的成员"),
)
case(
    "household_two_heads",
    lambda r: r[1].update(与户主关系="户主"),
    ("3", "与户主关系", "HOUSEHOLD_MULTIPLE_HEADS", "另见第 2 行"),
)

exp = {}
for name, (rows, e) in cases.items():
    with open(f"tests/bad_rosters/{name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, H, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    exp[name] = dict(行号=int(e[0]), 列=e[1], 原因代码=e[2], 说明含=e[3])
with open("tests/bad_rosters/expected.yaml", "w", encoding="utf-8") as f:
    f.write(
        "# One bad roster per validation error: the problem each must report (row, column, reason code, message).\n"
    )
    yaml.safe_dump(exp, f, allow_unicode=True, sort_keys=True)
