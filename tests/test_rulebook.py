"""The rulebook is refused at load time, naming file, line and key, with a suggestion: one broken file per message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from subsidy_engine.errors import PeriodNotCoveredError, RulebookError
from subsidy_engine.periods import parse_period
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook

BROKEN = [
    (
        "unknown key with a suggestion",
        "dibao.yaml",
        "    amount: >-",
        "    amout: >-",
        "dibao.yaml:117 [rules.0.amout]: 未知的键 'amout',是否想写 'amount'?",
    ),
    (
        "unknown field with a suggestion",
        "education_aid.yaml",
        'when: student and school_stage == "学前"',
        'when: student and school_stag == "学前"',
        "未知的字段或参数 'school_stag',是否想写 'school_stage'?",
    ),
    (
        "misspelt enum value",
        "definitions.yaml",
        'household_type == "脱贫户"',
        'household_type == "脱贫戸"',
        'household_type 没有取值 "脱贫戸",是否想写 "脱贫户"?',
    ),
    (
        "condition of the wrong type",
        "tekun.yaml",
        "when: tekun and alive",
        "when: age",
        "tekun.yaml:63 [rules[tekun].when]: when 应得到 bool,实为 int",
    ),
    (
        "gap in a decision table",
        "dibao.yaml",
        "value: {城市: 735, 农村: 600}",
        "value: {城市: 735}",
        "definitions.yaml:12 [definitions.dibao_active]: 决策表 dibao_standard(自 2023-09-01 起)缺少 dibao_area = 农村 的取值",
    ),
    (
        "unknown key in a decision table",
        "migrant_transport.yaml",
        "{市外: 200, 区县外市内: 50}",
        "{市外: 200, 区县外市内: 50, 省外: 300}",
        "参数 transport_flat_rate 在 2022-01-01 的表有未知的键 ['省外']",
    ),
    (
        "overlapping entries (duplicate key)",
        "dibao.yaml",
        "value: {城市: 717, 农村: 581}",
        "value: {城市: 717, 农村: 581, 城市: 700}",
        "键 '城市' 重复",
    ),
    (
        "aggregate outside definitions",
        "tekun.yaml",
        "when: tekun and alive",
        "when: tekun and household_any(alive)",
        "household_any(...) 只能用在 definitions 里",
    ),
    (
        "missing key",
        "tekun.yaml",
        "    amount: tekun_basic_living\n",
        "",
        "[rules.0.amount]: 缺少必需的键 'amount'",
    ),
    (
        "money times money",
        "tekun.yaml",
        "amount: tekun_basic_living",
        "amount: tekun_basic_living * ticket_amount",
        "金额不能乘金额",
    ),
    (
        "a fractional multiple of money",
        "tekun.yaml",
        "amount: tekun_basic_living",
        "amount: tekun_basic_living * 0.5",
        "金额只能乘整数",
    ),
    (
        "definition cycle",
        "definitions.yaml",
        'when: household_type == "脱贫户" or monitored',
        'when: household_type == "脱贫户" or student',
        "定义循环引用",
    ),
    ("money with three decimals", "tekun.yaml", "value: 932\n", "value: 932.001\n", "应为非负、最多两位小数"),
    (
        "a value's reference that the file does not list",
        "tekun.yaml",
        "reference: 渝民〔2022〕187号\n",
        "reference: 渝民〔2022〕178号\n",
        "tekun.yaml:29: 参数 tekun_basic_living 在 2022-09-01 的 reference '渝民〔2022〕178号' 不在本文件 references 里",
    ),
    (
        "a misspelt start status",
        "tekun.yaml",
        "        start_status: assumed\n",
        "        start_status: asumed\n",
        "tekun.yaml:26 [parameters.tekun_basic_living.values.2022-01-01.start_status]: start_status 不能是 'asumed'"
        "(可选: 'official' or 'assumed')",
    ),
    (
        "unknown function",
        "tekun.yaml",
        "when: tekun and alive",
        "when: tekun and household_all(alive)",
        "未知函数 household_all(),是否想写 household_any?",
    ),
    ("syntax error", "tekun.yaml", "when: tekun and alive", "when: tekun and and alive", "表达式语法错误"),
    (
        "null compared with a field that is never blank",
        "tekun.yaml",
        "when: tekun and alive",
        "when: tekun and household_type != null",
        "只有可空字段才能与 null 比较",
    ),
    (
        "a date that is not in the calendar",
        "tekun.yaml",
        "    values:\n",
        "    values:\n      2023-02-30: null\n",
        "'2023-02-30' 不是有效的日期:2023 年 2 月没有 30 日",
    ),
    ("a parameter above 1 亿元", "tekun.yaml", "value: 932\n", "value: 100000001\n", "超出上限 100000000 元"),
    (
        "an expression nested too deep",
        "tekun.yaml",
        "when: tekun and alive",
        "when: " + "not " * 100 + "tekun",
        "表达式嵌套超过 40 层",
    ),
    (
        "an amount that could overflow",
        "tekun.yaml",
        "amount: tekun_basic_living",
        "amount: tekun_basic_living * 100000000 * 100000000",
        "超出可精确计算的范围",
    ),
]


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, dest)
    return dest


@pytest.mark.parametrize("case", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rule_file_is_refused_with_a_clear_message(rules_copy: Path, case: tuple[str, ...]) -> None:
    _, file, old, new, message = case
    path = rules_copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture drifted: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulebookError) as err:
        load_rulebook(rules_copy)
    assert message in str(err.value)


def test_bundled_rulebook_covers_2022_to_2026() -> None:
    import datetime as dt

    rb = load_rulebook()
    assert rb.coverage() == (dt.date(2022, 1, 1), dt.date(2026, 12, 31))
    for period in ("2022", "2022-01", "2023", "2024", "2025", "2026", "2026-12"):
        rb.check_period(parse_period(period))


COVERAGE = "本规则库 chongqing-nanchuan 覆盖 2022-01-01 至 2026-12-31"


@pytest.mark.parametrize(
    "period,message",
    [
        ("2027", f"无法计算期间 2027: 参数 dibao_standard(dibao.yaml)在 2027-01-01 没有有效值;{COVERAGE}"),
        (
            "2027-01",
            f"无法计算期间 2027-01: 参数 dibao_standard(dibao.yaml)在 2027-01-01 没有有效值;{COVERAGE}",
        ),
        ("2021", f"无法计算期间 2021: 参数 dibao_standard(dibao.yaml)在 2021-01-01 没有有效值;{COVERAGE}"),
        (
            "2021-12",
            f"无法计算期间 2021-12: 参数 dibao_standard(dibao.yaml)在 2021-12-01 没有有效值;{COVERAGE}",
        ),
    ],
)
def test_a_period_outside_the_rulebook_is_refused(period: str, message: str) -> None:
    with pytest.raises(PeriodNotCoveredError) as err:
        load_rulebook().check_period(parse_period(period))
    assert str(err.value) == message


def test_every_parameter_value_has_a_reference_and_status_and_every_rule_a_reference() -> None:
    rb = load_rulebook()
    for p in rb.params.values():
        assert p.description and p.unit
        for _, entry in p.entries:
            if entry is not None:
                assert entry.reference.strip() and entry.status in ("official", "assumed")
    for prog in rb.programs:
        assert prog.references
        for r in prog.rules:
            assert r.reference in {ref.id for ref in prog.references}


def _assumed_in(year: int) -> list[str]:
    """The assumed parameter values a run of `year` can rest on: every first of a month and reference date."""
    import datetime as dt

    rb = load_rulebook()
    days = [dt.date(year, m, 1) for m in range(1, 13)] + [dt.date(year, 12, 31)]
    return sorted({a for d in days for a in rb.assumed(set(rb.params), d)})


def test_a_2023_run_rests_on_the_assumptions_the_town_report_lists() -> None:
    assert _assumed_in(2023) == [
        "dibao_priority_addon@2023-01-01",
        "dibao_standard@2023-09-01",
        "edu_preschool@2023-01-01",
        "premium_dibao@2023-01-01",
        "premium_needy@2023-01-01",
        "tekun_basic_living@2023-09-01",
    ]


@pytest.mark.parametrize(
    "year,assumed",
    [
        (
            2022,
            # the 2022-01 and 2022-09 standards: official values, assumed first months
            "dibao_priority_addon@2022-01-01 dibao_standard@2022-01-01 dibao_standard@2022-09-01 "
            "edu_preschool@2022-01-01 premium_dibao@2022-01-01 premium_needy@2022-01-01 "
            "tekun_basic_living@2022-01-01 tekun_basic_living@2022-09-01",
        ),
        (
            2024,
            # 国家助学金 from the 2024 autumn semester: the start is assumed
            "dibao_priority_addon@2024-01-01 dibao_standard@2024-09-01 edu_preschool@2024-01-01 "
            "edu_senior@2024-09-01 edu_vocational@2024-09-01 premium_dibao@2024-01-01 premium_needy@2024-01-01 "
            "tekun_basic_living@2024-09-01",
        ),
        (
            2025,
            "dibao_priority_addon@2025-01-01 dibao_standard@2025-09-01 edu_junior_boarding@2025-09-01 "
            "edu_junior_day@2025-09-01 edu_preschool@2025-01-01 edu_primary_boarding@2025-09-01 "
            "edu_primary_day@2025-09-01 premium_dibao@2025-01-01 premium_needy@2025-01-01 "
            "tekun_basic_living@2025-09-01",
        ),
        (
            2026,
            # the 2025 standards and the 2025 premium carried forward; the 2025-09 education values now certain
            "dibao_priority_addon@2026-01-01 dibao_standard@2026-01-01 edu_preschool@2026-01-01 "
            "premium_dibao@2026-01-01 premium_full@2026-01-01 premium_needy@2026-01-01 "
            "tekun_basic_living@2026-01-01",
        ),
    ],
)
def test_assumed_values_of_each_year(year: int, assumed: str) -> None:
    assert _assumed_in(year) == assumed.split()


def test_an_assumed_first_month_is_assumed_until_the_end_of_its_year() -> None:
    import datetime as dt

    std = load_rulebook().params["dibao_standard"]
    assert std.status_at(dt.date(2023, 8, 1)) == "official"  # 717 / 581, in force since 2022-09
    assert std.status_at(dt.date(2023, 9, 1)) == "assumed"
    assert std.status_at(dt.date(2023, 12, 1)) == "assumed"
    assert std.status_at(dt.date(2024, 1, 1)) == "official"
    assert std.status_at(dt.date(2027, 1, 1)) is None
