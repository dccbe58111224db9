"""The roster's columns (docs/specification.md §2), declared once: header, alias, level, type, allowed values, default.

Everything that reads, validates, documents or generates a roster takes its columns from `COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "enum", "bool", "date", "month", "money", "int", "id"]


@dataclass(frozen=True)
class Column:
    name: str  # Chinese header, canonical
    alias: str  # English alias, also the field name used by rules
    level: Literal["H", "P"]  # household or person
    kind: Kind
    required: bool = False
    values: tuple[str, ...] = ()  # for enums
    default: object = None  # for booleans: the value of a blank cell
    doc: str = ""


HOUSEHOLD_TYPES = ("脱贫户", "一般农户")
MONITOR_TYPES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
DIBAO_AREAS = ("城市", "农村")
RELATIONS = ("户主", "配偶", "子女", "父母", "孙子女", "其他")
SCHOOL_STAGES = ("学前", "小学", "初中", "普通高中", "中职", "高职")
WORK_LOCATIONS = ("县内", "区县外市内", "市外")

COLUMNS: tuple[Column, ...] = (
    Column("户编号", "household_id", "H", "text", required=True),
    Column("乡镇", "town", "H", "text", required=True),
    Column("行政村", "village", "H", "text", required=True),
    Column("户类型", "household_type", "H", "enum", required=True, values=HOUSEHOLD_TYPES),
    Column("监测对象类别", "monitor_type", "H", "enum", values=MONITOR_TYPES),
    Column("风险消除日期", "risk_eliminated_on", "H", "date", doc="blank = risk not eliminated"),
    Column("低保类别", "dibao_area", "H", "enum", values=DIBAO_AREAS, doc="blank = not a 低保 household"),
    Column("低保起始月", "dibao_from", "H", "month", doc="required if 低保类别 is set"),
    Column("低保终止月", "dibao_to", "H", "month", doc="inclusive; blank = open"),
    Column("家庭月人均收入", "income_per_capita_month", "H", "money", doc="required if 低保类别 is set"),
    Column("家庭有机动车", "owns_vehicle", "H", "bool", default=False),
    Column("姓名", "name", "P", "text", required=True),
    Column("证件号码", "id_number", "P", "id", required=True, doc="18-char 公民身份号码, unique"),
    Column("与户主关系", "relation", "P", "enum", required=True, values=RELATIONS),
    Column("低保在保", "dibao_covered", "P", "bool", default=False),
    Column("特困人员", "tekun", "P", "bool", default=False),
    Column("财政供养人员", "public_payroll", "P", "bool", default=False),
    Column("参加城乡居民医保", "resident_insurance", "P", "bool", default=True),
    Column("残疾证号", "disability_cert", "P", "text", doc="own 证件号码 + category 1–7 + grade 1–4"),
    Column("残疾证有效期至", "disability_cert_valid_to", "P", "date", doc="blank = valid"),
    Column("在校学段", "school_stage", "P", "enum", values=SCHOOL_STAGES),
    Column("是否寄宿", "boarding", "P", "bool", default=False),
    Column("年级", "grade", "P", "int", doc="1–6; required if 在校学段 = 中职"),
    Column("务工地点", "work_location", "P", "enum", values=WORK_LOCATIONS),
    Column("往返车票金额", "ticket_amount", "P", "money", doc="blank or 0 = no tickets"),
    Column("死亡日期", "died_on", "P", "date"),
    # where the money goes: never a reason to reject a row (a bad or missing account holds the person's lines
    # back from the bank file, release/accounts.py); read by `subsidy bank export`, not by any rule
    Column("代发账号", "payout_account", "P", "text", doc="16–19 digits, Luhn check digit; blank = none yet"),
    Column("开户银行", "payout_bank", "P", "text"),
)

BY_NAME = {c.name: c for c in COLUMNS}
BY_ALIAS = {c.alias: c for c in COLUMNS}
HOUSEHOLD_COLUMNS = tuple(c for c in COLUMNS if c.level == "H")


def canonical(header: str) -> Column | None:
    """The column a header names, by its Chinese name or English alias (case-insensitive alias)."""
    h = header.strip().strip("\ufeff").strip()
    return BY_NAME.get(h) or BY_ALIAS.get(h.lower())


# What to write in each column, in Chinese, for the people who fill a roster in (the roster template's comments
# and its 填写说明 sheet, the handbook): the specific rule; required, type and allowed values are added from COLUMNS.
HELP: dict[str, str] = {
    "household_id": "同一户的每个成员填同一个户编号",
    "town": "户所在乡镇",
    "village": "户所在行政村",
    "household_type": "",
    "monitor_type": "不是监测对象的留空",
    "risk_eliminated_on": "监测对象风险消除的日期;风险未消除的留空",
    "dibao_area": "不是低保户的留空",
    "dibao_from": "填了低保类别时必填",
    "dibao_to": "含当月;仍在保的留空",
    "income_per_capita_month": "填了低保类别时必填",
    "owns_vehicle": "家庭是否有机动车",
    "name": "",
    "id_number": "不可重复;末位 X 照写",
    "relation": "每户有且只有一个户主",
    "dibao_covered": "只有低保户的成员可以填是",
    "tekun": "",
    "public_payroll": "",
    "resident_insurance": "",
    "disability_cert": "本人证件号码 + 残疾类别(1–7)+ 残疾等级(1–4),共 20 位;没有残疾证的留空",
    "disability_cert_valid_to": "长期有效的留空",
    "school_stage": "不在校的留空",
    "boarding": "",
    "grade": "1–6;在校学段为中职时必填",
    "work_location": "不外出务工的留空",
    "ticket_amount": "没有车票的留空或填 0",
    "died_on": "在世的留空",
    "payout_account": "补助发到的社保卡或银行卡号,16–19 位数字,请设为文本;缺少或有误不影响计算,只是暂缓代发",
    "payout_bank": "上述卡号的开户银行",
}

KIND_HELP = {
    "text": "文字",
    "enum": "从下拉列表选择",
    "bool": "是 / 否",
    "date": "日期,如 2023-10-15",
    "month": "月份,如 2023-09",
    "money": "金额(元),最多两位小数,不写千分位、货币符号",
    "int": "整数",
    "id": "18 位公民身份号码",
}


def help_text(c: Column) -> str:
    """One column's filling rule in Chinese: required or not, the kind of value, the allowed values, the rule."""
    parts = ["必填" if c.required else "选填", KIND_HELP[c.kind]]
    if c.values:
        parts.append("可选: " + " / ".join(c.values))
    if c.kind == "bool":
        parts.append(f"留空为{'是' if c.default else '否'}")
    if HELP[c.alias]:
        parts.append(HELP[c.alias])
    return ";".join(parts)
