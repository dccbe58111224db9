"""Typed household records (pydantic) from accepted rows, and the invariants they re-check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from helpers import household_rows, make_id
from subsidy_engine.roster.read import roster_from_records
from subsidy_engine.roster.records import Household, Person, households
from subsidy_engine.roster.validate import validate


def test_accepted_rows_become_typed_households() -> None:
    rows = household_rows(
        [
            {
                "低保类别": "农村",
                "低保起始月": "2022/3",
                "家庭月人均收入": "260.5",
                "members": [
                    {"姓名": "王德福", "与户主关系": "户主", "born": "1958-04-10", "低保在保": "是"},
                    {
                        "姓名": "刘桂兰",
                        "与户主关系": "配偶",
                        "born": "1960-11-02",
                        "sex": "女",
                        "disability": 41,
                        "残疾证有效期至": "2026-1-1",
                        "往返车票金额": "12.5",
                    },
                ],
            }
        ]
    )
    [h] = households(validate(roster_from_records(rows)).persons)
    assert h.household_id == "H001" and h.dibao_area == "农村" and h.dibao_from == "2022-03"
    assert h.income_per_capita_month == Decimal("260.50") and h.dibao_to is None
    assert h.head.name == "王德福" and h.head.birth_date == dt.date(1958, 4, 10) and h.head.sex == "男"
    wife = h.members[1]
    assert (wife.sex, wife.disability_category, wife.disability_grade) == ("女", 4, 1)
    assert wife.disability_cert_valid_to == dt.date(2026, 1, 1) and wife.ticket_amount == Decimal("12.50")
    assert wife.row == 3


def test_models_refuse_what_the_roster_refuses() -> None:
    pid = make_id("1960-01-01", 1)
    head = Person(row=2, name="甲", id_number=pid, relation="户主", birth_date=dt.date(1960, 1, 1), sex="男")
    with pytest.raises(ValidationError, match="应有且只有一个户主,实有 2 个"):
        Household(household_id="H", town="t", village="v", household_type="一般农户", members=[head, head])
    with pytest.raises(ValidationError, match="校验位错误"):
        Person(
            row=2,
            name="甲",
            id_number=pid[:-1] + ("0" if pid[-1] != "0" else "1"),
            relation="户主",
            birth_date=dt.date(1960, 1, 1),
            sex="男",
        )
    with pytest.raises(ValidationError, match=r"Input should be"):
        Household(household_id="H", town="t", village="v", household_type="贫困户", members=[head])
