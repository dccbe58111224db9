"""Every validation error of SPEC §2, one bad roster each, checked by row, column, reason code and message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import household_rows, make_id
from subsidy_engine.roster.read import read_roster, roster_from_records
from subsidy_engine.roster.validate import validate

BAD = Path(__file__).parent / "bad_rosters"
EXPECTED = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_roster_reports_the_problem(name: str) -> None:
    want = EXPECTED[name]
    v = validate(read_roster(BAD / f"{name}.csv"))
    r = v.rejects
    hit = r[(r["行号"] == want["行号"]) & (r["列"] == want["列"]) & (r["原因代码"] == want["原因代码"])]
    assert len(hit) >= 1, (
        f"{name}: no {want['原因代码']} on row {want['行号']} column {want['列']}:\n{r.to_string()}"
    )
    assert want["说明含"] in hit.iloc[0]["说明"], hit.iloc[0]["说明"]
    # nothing is lost: every row is accepted or rejected, and every rejected row has at least one reason
    assert v.rows_accepted + v.rows_rejected == v.rows_read == 3
    assert set(r["行号"]) | set(v.persons["_row"]) == {2, 3, 4}
    assert not set(r["行号"]) & set(v.persons["_row"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bad_row_rejects_its_whole_household_and_only_it(name: str) -> None:
    v = validate(read_roster(BAD / f"{name}.csv"))
    r = v.rejects
    bad_households = set(r["户编号"])
    for hh in bad_households:
        rows_of_hh = {2, 3} if hh == "H001" else {4}
        assert rows_of_hh <= set(r["行号"]), f"{name}: household {hh} only partly rejected"
    innocent = r[r["原因代码"] == "HOUSEHOLD_REJECTED"]
    own = set(r.loc[r["原因代码"] != "HOUSEHOLD_REJECTED", "行号"])
    assert not set(innocent["行号"]) & own, "a row with its own error must not also be HOUSEHOLD_REJECTED"
    assert set(v.persons["户编号" if "户编号" in v.persons else "household_id"]).isdisjoint(bad_households)


def test_duplicate_ids_reject_both_rows_each_naming_the_other() -> None:
    v = validate(read_roster(BAD / "id_duplicate.csv"))
    dup = v.rejects[v.rejects["原因代码"] == "ID_DUPLICATE"].set_index("行号")["说明"]
    assert dup.to_dict() == {2: "证件号码与第 4 行重复", 4: "证件号码与第 2 行重复"}
    innocent = v.rejects[v.rejects["原因代码"] == "HOUSEHOLD_REJECTED"]
    assert list(innocent["行号"]) == [3]
    assert v.rows_rejected == 3 and v.rows_accepted == 0


def test_a_row_with_three_problems_has_three_lines() -> None:
    rows = household_rows(
        [
            {
                "members": [
                    {
                        "姓名": "甲",
                        "与户主关系": "户主",
                        "特困人员": "也许",
                        "往返车票金额": "1.001",
                        "死亡日期": "2023-13-01",
                    }
                ]
            }
        ]
    )
    v = validate(roster_from_records(rows))
    assert sorted(v.rejects["原因代码"]) == ["BAD_BOOL", "BAD_DATE", "MONEY_PRECISION"]
    assert v.rows_rejected == 1


def test_values_are_read_in_every_spelling_the_spec_allows() -> None:
    spellings = ["是", "否", "Y", "n", "TRUE", "false", "1", "0", " 是\u3000", "\u3000否 "]
    members = [
        {"姓名": f"人{i}", "与户主关系": "户主" if i == 0 else "子女", "born": "2000-01-01", "特困人员": s}
        for i, s in enumerate(spellings)
    ]
    v = validate(roster_from_records(household_rows([{"members": members}])))
    assert v.rows_rejected == 0
    assert list(v.persons["tekun"]) == [True, False, True, False, True, False, True, False, True, False]


@pytest.mark.parametrize(
    "text,fen",
    [
        ("0", 0),
        ("12", 1200),
        ("12.5", 1250),
        ("312.50", 31250),
        ("0.01", 1),
        (312.5, 31250),
        (100, 10000),
        (0.1, 10),
    ],
)
def test_money_is_exact_fen(text: object, fen: int) -> None:
    rows = household_rows([{"members": [{"姓名": "甲", "与户主关系": "户主", "往返车票金额": text}]}])
    v = validate(roster_from_records(rows))
    assert v.rows_rejected == 0
    assert int(v.persons["ticket_amount"].iloc[0]) == fen


@pytest.mark.parametrize(
    "text,iso",
    [
        ("2023-06-01", "2023-06-01"),
        ("2023/6/1", "2023-06-01"),
        ("2023-6-01", "2023-06-01"),
        ("2023/06/1", "2023-06-01"),
    ],
)
def test_dates_zero_padding_optional(text: str, iso: str) -> None:
    import datetime as dt

    from subsidy_engine.roster.cells import day_number

    rows = household_rows([{"members": [{"姓名": "甲", "与户主关系": "户主", "死亡日期": text}]}])
    v = validate(roster_from_records(rows))
    assert int(v.persons["died_on"].iloc[0]) == day_number(dt.date.fromisoformat(iso))


def test_lowercase_x_is_accepted_and_stored_upper() -> None:
    for seq in range(1, 60):
        number = make_id("1980-02-02", seq)
        if number.endswith("X"):
            break
    rows = household_rows(
        [
            {
                "members": [
                    {
                        "姓名": "甲",
                        "与户主关系": "户主",
                        "证件号码": number.lower(),
                        "残疾证号": number.lower() + "11",
                    }
                ]
            }
        ]
    )
    v = validate(roster_from_records(rows))
    assert v.rows_rejected == 0
    assert v.persons["id_number"].iloc[0] == number
    assert v.persons["disability_cert"].iloc[0] == number + "11"


def test_fields_that_do_not_apply_are_accepted_and_ignored() -> None:
    rows = household_rows(
        [
            {
                "风险消除日期": "2023-01-05",
                "members": [
                    {"姓名": "甲", "与户主关系": "户主", "往返车票金额": "300", "是否寄宿": "是", "年级": "2"}
                ],
            }
        ]
    )
    v = validate(roster_from_records(rows))
    assert v.rows_rejected == 0


def test_household_fields_compared_after_parsing_and_defaults() -> None:
    rows = household_rows(
        [{"members": [{"姓名": "甲", "与户主关系": "户主"}, {"姓名": "乙", "与户主关系": "配偶"}]}]
    )
    rows[0]["家庭有机动车"] = ""  # default 否
    rows[1]["家庭有机动车"] = "N"
    rows[1]["户类型"] = " 一般农户\u3000"
    assert validate(roster_from_records(rows)).rows_rejected == 0
    rows[1]["监测对象类别"] = "边缘易致贫户"  # a blank against a value disagrees
    v = validate(roster_from_records(rows))
    assert v.rows_rejected == 2
    assert list(v.rejects["原因代码"]) == ["HOUSEHOLD_REJECTED", "HOUSEHOLD_MISMATCH"]


def test_columns_parsed_two_at_a_time_give_the_same_rejects_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Large rosters parse their columns on two threads; every bad roster gives the same rejects either way."""
    import subsidy_engine.roster.validate as validation

    raws = {name: read_roster(BAD / f"{name}.csv") for name in sorted(EXPECTED)}
    one_at_a_time = {name: validate(raw).rejects for name, raw in raws.items()}
    monkeypatch.setattr(validation, "PARALLEL_FROM_ROWS", 0)
    for name, raw in raws.items():
        threaded = validate(raw).rejects
        assert threaded.equals(one_at_a_time[name]), name
        assert len(threaded) > 0


def test_duplicates_found_among_malformed_numbers_and_with_lowercase_x() -> None:
    """Well-formed numbers are compared as integers, other text as text: repeats of both kinds are found, and
    a lowercase x is the same number as its X."""
    for seq in range(1, 60):
        with_x = make_id("1980-02-02", seq)
        if with_x.endswith("X"):
            break
    members = [
        {"姓名": "甲", "与户主关系": "户主", "证件号码": "12345"},
        {"姓名": "乙", "与户主关系": "配偶", "证件号码": " 12345 "},
        {"姓名": "丙", "与户主关系": "子女", "证件号码": with_x},
        {"姓名": "丁", "与户主关系": "子女", "证件号码": with_x.lower()},
        {"姓名": "戊", "与户主关系": "子女", "证件号码": with_x[:17] + "9"},
    ]
    v = validate(roster_from_records(household_rows([{"members": members}])))
    dup = v.rejects[v.rejects["原因代码"] == "ID_DUPLICATE"].set_index("行号")["说明"].to_dict()
    assert dup == {
        2: "证件号码与第 3 行重复",
        3: "证件号码与第 2 行重复",
        4: "证件号码与第 5 行重复",
        5: "证件号码与第 4 行重复",
    }
    assert set(v.rejects.loc[v.rejects["行号"] == 6, "原因代码"]) == {"ID_CHECKSUM"}
