"""The names a rule may read: the fact fields with their types and meaning (the rulebook's vocabulary).

The roster's enumerated values come from the roster schema (a declaration, no pandas), so loading a rulebook
never imports the roster reader or validator. The engines derive these facts (engines/facts.py).
"""

from __future__ import annotations

from subsidy_engine.roster.schema import BY_ALIAS
from subsidy_engine.rulebook.typecheck import BOOL, INT, MONEY, Type

NULL_INT = 0  # grade, disability grade/category: 0 = blank


def _enum(alias: str, nullable: bool = True, values: tuple[str, ...] = ()) -> Type:
    return Type("enum", values or BY_ALIAS[alias].values, nullable=nullable, field=alias)


SEXES = ("男", "女")

# Every field a rule may name, with its type and what it means (the documentation test reads FIELD_DOCS).
FIELDS: dict[str, Type] = {
    "household_type": _enum("household_type", nullable=False),
    "monitor_type": _enum("monitor_type"),
    "dibao_area": _enum("dibao_area"),
    "owns_vehicle": BOOL,
    "income_per_capita_month": MONEY,
    "relation": _enum("relation", nullable=False),
    "is_head": BOOL,
    "sex": Type("enum", SEXES, field="sex"),
    "dibao_covered": BOOL,
    "tekun": BOOL,
    "public_payroll": BOOL,
    "resident_insurance": BOOL,
    "school_stage": _enum("school_stage"),
    "boarding": BOOL,
    "grade": Type("int", nullable=True),
    "work_location": _enum("work_location"),
    "ticket_amount": MONEY,
    "has_disability_cert": BOOL,
    "disability_category": Type("int", nullable=True),
    "disability_grade": Type("int", nullable=True),
    # derived at the reference date d
    "age": INT,
    "alive": BOOL,
    "monitored": BOOL,
    "cert_valid": BOOL,
    "dibao_in_period": BOOL,
}

FIELD_DOCS: dict[str, str] = {
    "household_type": "户类型 (脱贫户 / 一般农户)",
    "monitor_type": "监测对象类别, null when blank",
    "dibao_area": "低保类别 (城市 / 农村), null = not a 低保 household",
    "owns_vehicle": "家庭有机动车",
    "income_per_capita_month": "家庭月人均收入 (money; 0 when blank)",
    "relation": "与户主关系",
    "is_head": "与户主关系 = 户主 (household lines are written on this row)",
    "sex": "性别 from the 17th digit of 证件号码",
    "dibao_covered": "低保在保",
    "tekun": "特困人员",
    "public_payroll": "财政供养人员",
    "resident_insurance": "参加城乡居民医保",
    "school_stage": "在校学段, null when blank",
    "boarding": "是否寄宿",
    "grade": "年级 1–6, null when blank",
    "work_location": "务工地点, null when blank",
    "ticket_amount": "往返车票金额 (money; 0 when blank)",
    "has_disability_cert": "残疾证号 is set",
    "disability_category": "残疾类别 1–7 (19th character of 残疾证号), null without a certificate",
    "disability_grade": "残疾等级 1–4 (20th character of 残疾证号), null without a certificate",
    "age": "whole years completed at d (a 29 February birthday counts from 1 March)",
    "alive": "born on or before d and (no 死亡日期 or 死亡日期 ≥ d)",
    "monitored": "监测对象类别 set and (no 风险消除日期 or 风险消除日期 > d)",
    "cert_valid": "残疾证号 set and (no 有效期 or 残疾证有效期至 ≥ d)",
    "dibao_in_period": "低保类别 set and 低保起始月 ≤ month of d ≤ 低保终止月 (open when blank)",
}

# The Chinese name of every field, as a caseworker reads it (explanations, the handbook): a roster field is
# called by its column header, a derived one by what it means.
FIELD_LABELS: dict[str, str] = {
    **{name: BY_ALIAS[name].name for name in FIELDS if name in BY_ALIAS},
    "is_head": "户主",
    "sex": "性别",
    "has_disability_cert": "持有残疾证",
    "disability_category": "残疾类别",
    "disability_grade": "残疾等级",
    "age": "年龄",
    "alive": "在世",
    "monitored": "监测对象(风险未消除)",
    "cert_valid": "残疾证有效",
    "dibao_in_period": "在低保起止月份内",
}
