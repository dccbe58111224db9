"""Properties: a year is the union of its twelve months; nothing a roster holds is ever lost, whatever its cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import household_rows
from subsidy_engine.roster.read import read_roster, roster_from_records
from subsidy_engine.roster.schema import COLUMNS
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.pipeline import evaluate_roster

RULEBOOK = load_rulebook()
BOUNDARY_DAYS = [dt.date(2023, m, d) for m in range(1, 13) for d in (1, 2)] + [
    dt.date(2022, 12, 31),
    dt.date(2023, 8, 31),
    dt.date(2023, 12, 31),
    dt.date(2023, 6, 15),
    # the change dates of the parameter history
    dt.date(2022, 9, 1),
    dt.date(2022, 10, 1),
    dt.date(2024, 8, 31),
    dt.date(2025, 9, 1),
    dt.date(2025, 12, 31),
    dt.date(2026, 1, 1),
]
day = st.one_of(st.sampled_from(BOUNDARY_DAYS), st.dates(dt.date(2021, 6, 1), dt.date(2027, 6, 1)))
MONTHS = "2021-05 2022-09 2022-11 2023-01 2023-02 2023-05 2023-08 2023-09 2023-12 2024-02 2024-09 2025-08"
month = st.sampled_from([*MONTHS.split(), "2025-09", "2026-01", "2026-07"])
YEARS = ["2022", "2023", "2024", "2025", "2026"]
yes_no = st.sampled_from(["是", "否", ""])


@st.composite
def member(draw: Any, head: bool) -> dict[str, Any]:
    born = draw(
        st.one_of(
            st.dates(dt.date(1925, 1, 1), dt.date(2023, 12, 31)),
            st.sampled_from(
                [
                    dt.date(1953, 9, 1),
                    dt.date(2007, 12, 31),
                    dt.date(2017, 8, 2),
                    dt.date(2023, 3, 1),
                    dt.date(1952, 2, 29),
                ]
            ),
        )
    )
    stage = draw(st.sampled_from(["", "", "学前", "小学", "初中", "普通高中", "中职", "高职"]))
    m: dict[str, Any] = {
        "姓名": "x",
        "与户主关系": "户主" if head else draw(st.sampled_from(["配偶", "子女", "父母", "孙子女", "其他"])),
        "born": born.isoformat(),
        "sex": draw(st.sampled_from(["男", "女"])),
        "特困人员": draw(yes_no),
        "财政供养人员": draw(st.sampled_from(["", "", "", "是"])),
        "参加城乡居民医保": draw(yes_no),
        "在校学段": stage,
        "是否寄宿": draw(yes_no),
        "年级": str(draw(st.integers(1, 3))) if stage == "中职" else "",
        "务工地点": draw(st.sampled_from(["", "县内", "区县外市内", "市外"])),
        "往返车票金额": draw(st.sampled_from(["", "0", "88.50", "1200"])),
    }
    if draw(st.booleans()):
        m["disability"] = f"{draw(st.integers(1, 7))}{draw(st.integers(1, 4))}"
        valid_to = draw(st.one_of(st.just(None), day))
        m["残疾证有效期至"] = valid_to.isoformat() if valid_to else ""
    died = draw(st.one_of(st.just(None), st.just(None), day))
    m["死亡日期"] = died.isoformat() if died and died >= born else ""
    return m


@st.composite
def household(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 4))
    h: dict[str, Any] = {
        "户类型": draw(st.sampled_from(["脱贫户", "一般农户"])),
        "监测对象类别": draw(st.sampled_from(["", "", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户"])),
        "家庭有机动车": draw(st.sampled_from(["", "否", "否", "是"])),
        "行政村": draw(st.sampled_from(["金花村", "永福村"])),
    }
    if h["监测对象类别"] and draw(st.booleans()):
        h["风险消除日期"] = draw(day).isoformat()
    members = [draw(member(head=i == 0)) for i in range(n)]
    if draw(st.booleans()):
        start = draw(month)
        h.update(
            {
                "低保类别": draw(st.sampled_from(["城市", "农村"])),
                "低保起始月": start,
                "家庭月人均收入": draw(
                    st.sampled_from(
                        ["0", "120.50", "515", "580.99", "581", "599.99", "600", "610", "630", "735", "770"]
                    )
                ),
            }
        )
        end = draw(st.one_of(st.just(""), month))
        if end and end >= start:
            h["低保终止月"] = end
        for m in members:
            m["低保在保"] = draw(st.sampled_from(["是", "是", "否"]))
    for i, m in enumerate(members):
        m["姓名"] = f"成员{i}"
    h["members"] = members
    return h


def _lines(payments: pd.DataFrame) -> list[tuple[str, ...]]:
    return sorted(
        tuple(r) for r in payments[["发放月份", "项目", "规则", "证件号码", "金额"]].itertuples(index=False)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(household(), min_size=1, max_size=6), st.sampled_from(YEARS))
def test_a_year_is_exactly_the_union_of_its_twelve_months(households: list[dict[str, Any]], y: str) -> None:
    raw = roster_from_records(household_rows(households))
    year = evaluate_roster(raw, y, RULEBOOK)
    assert year.validated.rows_rejected == 0, year.validated.rejects.to_string()
    months: list[tuple[str, ...]] = []
    for m in range(1, 13):
        months += _lines(evaluate_roster(raw, f"{y}-{m:02d}", RULEBOOK).payments)
    assert _lines(year.payments) == sorted(months)


CELL = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "是",
            "否",
            "Y",
            "2023-02-30",
            "2023/6/1",
            "-1",
            "1.001",
            "城市",
            "户主",
            "中职",
            "\u3000",
            "  ",
            "7",
            "1e5",
        ]
    ),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=12),
    st.sampled_from(["utf-8", "gb18030"]),
)
def test_garbage_cells_never_crash_and_never_lose_a_row(
    tmp_path_factory: Any, rows: list[list[Any]], encoding: str
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in COLUMNS])
    for r in rows:
        writer.writerow(["" if c is None else c for c in r])
    path = Path(tmp_path_factory.mktemp("g")) / "garbage.csv"
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    raw = read_roster(path)
    v = validate(raw)
    assert v.rows_accepted + v.rows_rejected == v.rows_read == raw.rows_read
    rejected_rows = set(v.rejects["行号"])
    assert len(rejected_rows) == v.rows_rejected
    assert rejected_rows.isdisjoint(set(v.persons["_row"]))
    assert rejected_rows | set(v.persons["_row"]) == set(raw.frame["_row"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(household(), min_size=1, max_size=5), st.data())
def test_corrupting_cells_of_valid_rosters_rejects_whole_households(
    households: list[dict[str, Any]], data: Any
) -> None:
    rows = household_rows(households)
    victim = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(
        st.sampled_from(["证件号码", "户类型", "与户主关系", "死亡日期", "往返车票金额", "低保在保"])
    )
    rows[victim][column] = data.draw(st.sampled_from(["??", "2023-13-01", "-5", "是否"]))
    v = validate(roster_from_records(rows))
    assert v.rows_accepted + v.rows_rejected == len(rows)
    hh = rows[victim]["户编号"]
    assert hh not in set(v.persons["household_id"])
