"""The roster's reject reasons (原因代码 of rejects.csv): one enumeration, each code with its Chinese title.

Every code a check of roster/ writes is a member of `Reason` and every member is written by some check
(tests/test_reasons.py reads the source to hold both); each has its title here (the pages show it, through
validate.REASONS and web/labels.py) and a line in the README's table of reason codes.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    REQUIRED = "REQUIRED"
    BAD_ENUM = "BAD_ENUM"
    BAD_BOOL = "BAD_BOOL"
    BAD_DATE = "BAD_DATE"
    BAD_MONTH = "BAD_MONTH"
    BAD_MONEY = "BAD_MONEY"
    MONEY_NEGATIVE = "MONEY_NEGATIVE"
    MONEY_PRECISION = "MONEY_PRECISION"
    MONEY_TOO_LARGE = "MONEY_TOO_LARGE"
    BAD_INT = "BAD_INT"
    GRADE_RANGE = "GRADE_RANGE"
    GRADE_REQUIRED = "GRADE_REQUIRED"
    ID_FORMAT = "ID_FORMAT"
    ID_BIRTH_DATE = "ID_BIRTH_DATE"
    ID_CHECKSUM = "ID_CHECKSUM"
    ID_DUPLICATE = "ID_DUPLICATE"
    CERT_FORMAT = "CERT_FORMAT"
    CERT_NOT_OWN = "CERT_NOT_OWN"
    DIBAO_FROM_REQUIRED = "DIBAO_FROM_REQUIRED"
    DIBAO_INCOME_REQUIRED = "DIBAO_INCOME_REQUIRED"
    DIBAO_END_BEFORE_START = "DIBAO_END_BEFORE_START"
    DIBAO_COVERED_NOT_DIBAO = "DIBAO_COVERED_NOT_DIBAO"
    DEATH_BEFORE_BIRTH = "DEATH_BEFORE_BIRTH"
    ROW_TOO_LONG = "ROW_TOO_LONG"
    ROW_TOO_SHORT = "ROW_TOO_SHORT"
    CELL_ERROR = "CELL_ERROR"
    FORMULA_NO_VALUE = "FORMULA_NO_VALUE"
    HOUSEHOLD_MISMATCH = "HOUSEHOLD_MISMATCH"
    HOUSEHOLD_NO_HEAD = "HOUSEHOLD_NO_HEAD"
    HOUSEHOLD_MULTIPLE_HEADS = "HOUSEHOLD_MULTIPLE_HEADS"
    HOUSEHOLD_REJECTED = "HOUSEHOLD_REJECTED"


TITLES: dict[str, str] = {
    Reason.REQUIRED: "必填项为空",
    Reason.BAD_ENUM: "不是允许的取值",
    Reason.BAD_BOOL: "是/否 取值无法识别",
    Reason.BAD_DATE: "日期无法识别",
    Reason.BAD_MONTH: "月份无法识别",
    Reason.BAD_MONEY: "金额格式错误",
    Reason.MONEY_NEGATIVE: "金额为负数",
    Reason.MONEY_PRECISION: "金额超过两位小数",
    Reason.MONEY_TOO_LARGE: "金额超过单个金额上限",
    Reason.BAD_INT: "应为整数",
    Reason.GRADE_RANGE: "年级不在 1–6",
    Reason.GRADE_REQUIRED: "中职学生缺年级",
    Reason.ID_FORMAT: "证件号码格式错误",
    Reason.ID_BIRTH_DATE: "证件号码出生日期无效",
    Reason.ID_CHECKSUM: "证件号码校验位错误",
    Reason.ID_DUPLICATE: "证件号码重复",
    Reason.CERT_FORMAT: "残疾证号格式错误",
    Reason.CERT_NOT_OWN: "残疾证号与本人证件号码不符",
    Reason.DIBAO_FROM_REQUIRED: "低保户缺低保起始月",
    Reason.DIBAO_INCOME_REQUIRED: "低保户缺家庭月人均收入",
    Reason.DIBAO_END_BEFORE_START: "低保终止月早于起始月",
    Reason.DIBAO_COVERED_NOT_DIBAO: "非低保户成员标为低保在保",
    Reason.DEATH_BEFORE_BIRTH: "死亡日期早于出生日期",
    Reason.ROW_TOO_LONG: "本行单元格多于表头",
    Reason.ROW_TOO_SHORT: "本行单元格少于表头",
    Reason.CELL_ERROR: "单元格为错误值(#N/A 等)",
    Reason.FORMULA_NO_VALUE: "公式没有计算结果",
    Reason.HOUSEHOLD_MISMATCH: "同户成员的户级字段不一致",
    Reason.HOUSEHOLD_NO_HEAD: "本户没有户主",
    Reason.HOUSEHOLD_MULTIPLE_HEADS: "本户有多个户主",
    Reason.HOUSEHOLD_REJECTED: "同户其他行有错误,整户不予计算",
}
