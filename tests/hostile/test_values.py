"""Hostile cell values, each with the behaviour it must get: Excel-mangled and repeated 证件号码 (one bounded
line per row), numbers in other scripts, money above the ceiling, integers out of range, totals that cannot
wrap around, and a negative rule amount that names the roster row."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import household_rows, make_id
from subsidy_engine.errors import EvaluationError, InputError
from subsidy_engine.roster.read import read_roster, roster_from_records
from subsidy_engine.roster.validate import REASONS, Validated, validate
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook
from subsidy_engine.run.pipeline import evaluate_roster
from subsidy_engine.run.totals import check_sum_fits

RULES = DEFAULT_RULES
ID = make_id("1980-02-02", 3)


def one_person(**cells: object) -> Validated:
    return validate(
        roster_from_records(household_rows([{"members": [{"姓名": "甲", "与户主关系": "户主", **cells}]}]))
    )


def problems(v: Validated) -> list[tuple[str, str]]:
    return list(zip(v.rejects["原因代码"], v.rejects["说明"], strict=True))


def no_full_id(v: Validated) -> None:
    """No message repeats an 18-character run of the number (the value column has it, masked where shown)."""
    for msg in v.rejects["说明"]:
        assert not re.search(r"[0-9]{15,}", msg), msg


@pytest.mark.parametrize(
    "cell", ["5.00119E+17", "5.00119e17", " 5.00119E+17 ", 5.00119198002020e17, 500119198002020000.0]
)
def test_a_number_excel_turned_into_scientific_notation_says_so(cell: object) -> None:
    v = one_person(证件号码=cell, 残疾证号=ID + "11")
    [(code, msg)] = problems(v)
    assert code == "ID_FORMAT"
    assert "科学计数法" in msg and "文本" in msg
    no_full_id(v)


def test_a_column_of_excel_numbers_gets_one_line_per_row_and_no_duplicates() -> None:
    members = [
        {"姓名": f"人{i}", "与户主关系": "户主" if i == 0 else "子女", "证件号码": "5.00119E+17"}
        for i in range(40)
    ]
    v = validate(roster_from_records(household_rows([{"members": members}])))
    assert list(v.rejects["原因代码"]) == ["ID_FORMAT"] * 40
    assert v.rows_rejected == 40


def test_a_float_cell_that_happens_to_pass_the_checksum_is_still_refused() -> None:
    """Excel keeps 15 digits of a number cell: the rest are not the person's even when they check."""
    v = one_person(证件号码=float(ID))  # make_id numbers need more than 15 digits, so the float lost some
    assert [c for c, _ in problems(v)] == ["ID_FORMAT"]
    assert v.rows_accepted == 0


def test_one_number_filled_down_is_reported_once_per_row_with_a_bounded_list() -> None:
    n = 3000  # quadratic before: each of 3,000 messages listed 2,999 rows (about 50 MB of text)
    members = [
        {"姓名": f"人{i}", "与户主关系": "户主" if i == 0 else "子女", "证件号码": ID} for i in range(n)
    ]
    v = validate(roster_from_records(household_rows([{"members": members}])))
    dup = v.rejects[v.rejects["原因代码"] == "ID_DUPLICATE"].set_index("行号")["说明"]
    assert len(dup) == n and v.rows_rejected == n
    assert dup[2] == f"证件号码与第 3、4、5、6、7 行等 {n - 1} 行重复"
    assert dup[5] == f"证件号码与第 2、3、4、6、7 行等 {n - 1} 行重复"
    assert dup[n + 1] == f"证件号码与第 2、3、4、5、6 行等 {n - 1} 行重复"
    assert dup.str.len().max() < 40


def test_a_small_duplicate_group_still_names_every_other_row() -> None:
    members = [
        {"姓名": f"人{i}", "与户主关系": "户主" if i == 0 else "子女", "证件号码": ID} for i in range(6)
    ]
    v = validate(roster_from_records(household_rows([{"members": members}])))
    dup = v.rejects[v.rejects["原因代码"] == "ID_DUPLICATE"].set_index("行号")["说明"]
    assert dup[2] == "证件号码与第 3、4、5、6、7 行重复"  # five others: all named, no "等"


def test_one_household_id_filled_down_with_every_row_a_head_is_bounded_too() -> None:
    members = [{"姓名": f"人{i}", "与户主关系": "户主"} for i in range(2000)]
    v = validate(roster_from_records(household_rows([{"members": members}])))
    heads = v.rejects[v.rejects["原因代码"] == "HOUSEHOLD_MULTIPLE_HEADS"]["说明"]
    assert len(heads) == 2000 and heads.str.len().max() < 60
    assert heads.iloc[0].endswith("(另见第 3、4、5、6、7 行等 1999 行)")


def test_many_households_without_a_head_each_get_their_rows_named() -> None:
    v = validate(
        roster_from_records(household_rows([{"members": [{"姓名": "甲", "与户主关系": "配偶"}]}] * 500))
    )
    no_head = v.rejects[v.rejects["原因代码"] == "HOUSEHOLD_NO_HEAD"]
    assert list(no_head["行号"]) == list(range(2, 502))
    assert no_head["说明"].iloc[0] == "户编号 H001 没有与户主关系为“户主”的成员"


@pytest.mark.parametrize(
    "cell,words",
    [
        (ID[:6] + " " + ID[6:14] + " " + ID[14:], "空格或“-”"),
        (ID[:6] + "-" + ID[6:], "空格或“-”"),
        (ID[:6] + ID[8:17], "15位的旧版身份证号码"),
        (ID[:10] + "O" + ID[11:], "字母 'O'"),
        ("٥" * 18, "半角数字"),
        ("无", "没有号码"),
        ("5001191980020", "应为18位"),
        (ID[:17] + ("0" if ID[17] != "0" else "1"), "号码有误,请核对原件"),
    ],
)
def test_a_malformed_number_says_what_to_do_without_repeating_it(cell: str, words: str) -> None:
    v = one_person(证件号码=cell)
    [(code, msg)] = [p for p in problems(v) if p[0].startswith("ID_")]
    assert words in msg, msg
    assert ID not in msg and ID[:17] not in msg
    no_full_id(v)
    assert code in REASONS


def test_full_width_digits_are_read_as_ascii() -> None:
    wide = str.maketrans("0123456789.-X", "０１２３４５６７８９．－Ｘ")
    v = one_person(
        证件号码=ID.translate(wide),
        往返车票金额="３００．５０",
        死亡日期="２０２３－０６－０１",
        在校学段="中职",
        年级="２",
        特困人员="Ｙ",
    )
    assert v.rows_rejected == 0, v.rejects.to_string()
    p = v.persons.iloc[0]
    assert (p["id_number"], int(p["ticket_amount"]), int(p["grade"]), bool(p["tekun"])) == (
        ID,
        30050,
        2,
        True,
    )


@pytest.mark.parametrize(
    "column,cell,code",
    [
        ("往返车票金额", "٣٠٠", "BAD_MONEY"),  # Arabic-Indic: was paid as 300.00
        ("往返车票金额", "𝟑𝟎𝟎", "BAD_MONEY"),  # mathematical bold
        ("往返车票金额", "³", "BAD_MONEY"),  # superscript
        ("年级", "٢", "BAD_INT"),
        ("死亡日期", "٢٠٢٣-06-01", "BAD_DATE"),
        ("低保起始月", "２０２３/٠٦", "BAD_MONTH"),
    ],
)
def test_digits_of_other_scripts_are_not_numbers(column: str, cell: str, code: str) -> None:
    v = one_person(**{column: cell})
    assert code in [c for c, _ in problems(v)]
    assert v.rows_accepted == 0


@pytest.mark.parametrize(
    "cell,fen", [("100000000", 10_000_000_000), ("99999999.99", 9_999_999_999), ("704.690", 70469)]
)
def test_money_up_to_the_ceiling_is_read(cell: str, fen: int) -> None:
    v = one_person(往返车票金额=cell)
    assert v.rows_rejected == 0 and int(v.persons["ticket_amount"].iloc[0]) == fen


@pytest.mark.parametrize(
    "cell",
    [
        "100000000.01",
        "92233720368547758.07",
        pytest.param("1" + "0" * 5000, id="text-of-5001-digits"),
        1e308,
        pytest.param(10**5000, id="int-of-5001-digits"),
        "1" * 30 + ".5",
    ],
)
def test_money_above_the_ceiling_is_a_reject(cell: object) -> None:
    v = one_person(往返车票金额=cell)
    [(code, msg)] = problems(v)
    assert code == "MONEY_TOO_LARGE" and "上限 100000000 元" in msg and len(msg) < 200


def test_a_money_precision_past_the_decimal_context_is_still_caught() -> None:
    """29 significant digits: Decimal arithmetic at its default 28 would round this to 1.00."""
    assert [c for c, _ in problems(one_person(往返车票金额="1.0000000000000000000000000001"))] == [
        "MONEY_PRECISION"
    ]


def test_the_ceiling_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBSIDY_MAX_AMOUNT_YUAN", "300")
    assert problems(one_person(往返车票金额="300")) == []
    assert [c for c, _ in problems(one_person(往返车票金额="300.01"))] == ["MONEY_TOO_LARGE"]
    for bad in ["0", "abc", "1" + "0" * 16, "9" * 5000]:
        monkeypatch.setenv("SUBSIDY_MAX_AMOUNT_YUAN", bad)
        with pytest.raises(InputError, match="SUBSIDY_MAX_AMOUNT_YUAN"):
            one_person()


@pytest.mark.parametrize(
    "cell", ["1" * 20, pytest.param("9" * 5000, id="text-of-5000-digits"), 1e308, 10**30, "1e3"]
)
def test_an_integer_out_of_range_is_a_reject_not_an_overflow(cell: object) -> None:
    v = one_person(在校学段="中职", 年级=cell)
    assert [c for c, _ in problems(v)] == ["BAD_INT"]


def test_two_huge_tickets_are_rejected_and_the_totals_stay_whole(tmp_path: Path) -> None:
    """Two 92233720368547758.07 tickets once summed to a migrant_transport total of -0.02."""
    roster = tmp_path / "roster.csv"
    rows = household_rows(
        [
            {
                "户类型": "脱贫户",
                "members": [
                    {
                        "姓名": "甲",
                        "与户主关系": "户主",
                        "born": "1990-01-01",
                        "务工地点": "市外",
                        "往返车票金额": t,
                    }
                    for t in ["92233720368547758.07"]
                ],
            }
            for _ in range(2)
        ]
        + [
            {
                "户类型": "脱贫户",
                "members": [
                    {
                        "姓名": "丙",
                        "与户主关系": "户主",
                        "born": "1990-01-01",
                        "务工地点": "市外",
                        "往返车票金额": "50",
                    }
                ],
            }
        ]
    )
    pd.DataFrame(rows).to_csv(roster, index=False)
    result = evaluate_roster(read_roster(roster), "2023")
    v = result.validated
    assert list(v.rejects["原因代码"]) == ["MONEY_TOO_LARGE", "MONEY_TOO_LARGE"]
    t = result.totals
    migrant = t[(t["项目"] == "migrant_transport") & (t["规则"] == "") & (t["乡镇"] == "")]
    assert list(migrant["金额"]) == ["50.00"]
    assert not t["金额"].str.startswith("-").any()


def test_a_sum_that_would_not_fit_in_int64_stops_the_run() -> None:
    top = 10**17  # the highest ceiling (10^15 元) in fen
    check_sum_fits(np.full(92, top, dtype=np.int64))  # 9.2e18 fits
    with pytest.raises(EvaluationError, match="超出可精确计算的范围"):
        check_sum_fits(np.full(93, top, dtype=np.int64))
    with pytest.raises(EvaluationError):
        check_sum_fits(np.array([2**63 - 1, 1], dtype=np.int64))


@pytest.mark.parametrize("engine", ["pandas", "rete"])
def test_a_negative_amount_names_the_roster_row(tmp_path: Path, engine: str) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    program = rules / "migrant_transport.yaml"
    text = program.read_text(encoding="utf-8")
    assert "    amount: ticket_amount\n" in text
    program.write_text(
        text.replace(
            "    amount: ticket_amount\n", "    amount: ticket_amount - transport_flat_rate[work_location]\n"
        ),
        encoding="utf-8",
    )
    rows = household_rows(
        [
            {"members": [{"姓名": "甲", "与户主关系": "户主"}]},
            {
                "户类型": "脱贫户",
                "members": [
                    {"姓名": "乙", "与户主关系": "户主"},
                    {
                        "姓名": "丙",
                        "与户主关系": "子女",
                        "born": "1990-01-01",
                        "务工地点": "市外",
                        "往返车票金额": "5",
                    },
                ],
            },
        ]
    )
    with pytest.raises(EvaluationError, match=r"transport_ticket 在 2023-12-31 得出负数金额\(名册第 4 行\)"):
        evaluate_roster(roster_from_records(rows), "2023", load_rulebook(rules), engine=engine, processes=1)
