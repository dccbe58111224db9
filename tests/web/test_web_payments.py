"""The payment list page of a run: search by 姓名 / 证件号码 / 户编号 (posted, never in a URL or a log), filters by
行政村 and 项目, 50 lines a page with the count and exact sum of what matched, 证件号码 masked. On both stores."""

from __future__ import annotations

import csv
import logging
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import add_user, town_roster, write_roster
from subsidy_engine.privacy import mask_id
from subsidy_engine.web.labels import count, program_titles, yuan

DIBAO = {"低保类别": "农村", "低保起始月": "2021-01", "家庭月人均收入": "200"}
TITLES = program_titles()


def _households() -> list[dict[str, Any]]:
    """Four 特困 persons in 金花村 and two 低保 households in 白茶村: more than 50 lines, two programs at least."""
    out: list[dict[str, Any]] = [
        {
            "户编号": f"500119203001{i:04d}",
            "行政村": "金花村",
            "members": [
                {
                    "姓名": f"孤老{i}",
                    "与户主关系": "户主",
                    "born": f"194{i}-01-01",
                    "特困人员": True,
                    "低保在保": False,
                }
            ],
        }
        for i in range(1, 5)
    ]
    out += [
        {
            **DIBAO,
            "户编号": f"500119203002{i:04d}",
            "行政村": "白茶村",
            "members": [
                {
                    "姓名": f"低保户{i}",
                    "与户主关系": "户主",
                    "低保在保": True,
                    "特困人员": False,
                    "born": f"196{i}-03-03",
                },
                {
                    "姓名": f"家属{i}",
                    "与户主关系": "配偶",
                    "低保在保": True,
                    "特困人员": False,
                    "born": f"196{i}-05-05",
                },
            ],
        }
        for i in range(1, 3)
    ]
    return out


@pytest.fixture
def seeded(app: Any, browser: Any, tmp_path: Path) -> tuple[Any, str, list[dict[str, str]]]:
    """A 兴隆镇 caseworker, a run of 2023, and the lines of its stored payments.csv."""
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(write_roster(tmp_path / "roster.csv", _households()))
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023"})
    run_id = str(r.url).rsplit("/", 1)[1]
    assert f'href="/runs/{run_id}/payments"' in r.text  # linked from the run page
    with (app.state.settings.data_dir / "runs" / run_id / "payments.csv").open(encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert len(lines) > 50 and len({x["项目"] for x in lines}) >= 2
    return b, run_id, lines


def _rows(html: str) -> list[list[str]]:
    body = re.search(r'<table id="payments">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, html[-2000:]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def _matched(html: str) -> tuple[str, str]:
    m = re.search(r'id="matched-count">([^<]*)</b> 笔,合计 <b id="matched-total">([^<]*)</b>', html)
    assert m, html[-2000:]
    return m.group(1), m.group(2)


def _expect(lines: list[dict[str, str]]) -> tuple[str, str]:
    return count(len(lines)), f"{yuan(sum(Decimal(x['金额']) for x in lines))} 元"


def _no_full_id(text: str, lines: list[dict[str, str]]) -> None:
    for pid in {x["证件号码"] for x in lines}:
        assert pid not in text


def test_the_list_is_paged_50_a_page_with_the_count_and_sum_and_masked_ids(seeded: Any) -> None:
    b, run_id, lines = seeded
    r = b.get(f"/runs/{run_id}/payments")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert _matched(r.text) == _expect(lines)
    rows = _rows(r.text)
    assert len(rows) == 50 and [x[0] for x in rows] == [str(i) for i in range(1, 51)]
    first = lines[0]
    assert rows[0][1:7] == [first["发放月份"], TITLES[first["项目"]], first["姓名"], mask_id(first["证件号码"]),
                            first["户编号"], first["行政村"]]  # fmt: skip
    assert rows[0][7] == yuan(first["金额"])
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", rows[0][4])
    _no_full_id(r.text, lines)
    assert f'href="/runs/{run_id}/payments?page=2"' in r.text and 'aria-current="page">1<' in r.text
    shown = re.sub(r"<[^>]+>", " ", re.sub(r'title="[^"]*"|value="[^"]*"', "", r.text))
    assert not any(re.search(rf"\b{code}\b", shown) for code in TITLES), "a program code is visible"
    last = b.get(f"/runs/{run_id}/payments?page=2")
    rows2 = _rows(last.text)
    assert len(rows2) == len(lines) - 50 and rows2[0][0] == "51"
    assert rows2[-1][3] == lines[-1]["姓名"] and 'rel="prev"' in last.text and 'rel="next"' not in last.text
    assert _rows(b.get(f"/runs/{run_id}/payments?page=99").text) == rows2  # past the end: the last page
    assert _rows(b.get(f"/runs/{run_id}/payments?page=x").text) == rows


def test_filters_by_village_and_program_count_and_sum_what_they_keep(seeded: Any) -> None:
    b, run_id, lines = seeded
    program = next(x["项目"] for x in lines if x["行政村"] == "白茶村")
    cases = {
        "village=金花村": [x for x in lines if x["行政村"] == "金花村"],
        f"program={program}": [x for x in lines if x["项目"] == program],
        f"village=白茶村&program={program}": [
            x for x in lines if x["行政村"] == "白茶村" and x["项目"] == program
        ],
        "village=没有这个村": [],
    }
    for query, want in cases.items():
        r = b.get(f"/runs/{run_id}/payments?{query}")
        assert _matched(r.text) == _expect(want), query
        got = _rows(r.text)
        assert len(got) == (min(len(want), 50) or 1), query  # the empty list says so in one row
        if want:
            assert {x[5] for x in got} == {x["户编号"] for x in want[:50]}, query
    r = b.get(f"/runs/{run_id}/payments?village=金花村")
    assert '<option value="金花村" selected>金花村</option>' in r.text
    assert f'<option value="{program}">{TITLES[program]}</option>' in r.text
    # the form posts the filters and lands on an address that holds them
    r = b.post(f"/runs/{run_id}/payments", {"village": "白茶村", "program": program})
    assert r.url.path == f"/runs/{run_id}/payments" and r.url.params["village"] == "白茶村"
    assert _matched(r.text) == _expect(cases[f"village=白茶村&program={program}"])


def test_a_search_by_each_key_is_posted_and_never_in_a_url_or_a_log(
    seeded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    b, run_id, lines = seeded
    caplog.set_level(logging.DEBUG)
    person = next(x for x in lines if x["行政村"] == "白茶村")
    mine = [x for x in lines if x["证件号码"] == person["证件号码"]]
    household = [x for x in lines if x["户编号"] == person["户编号"]]
    assert len(household) > len(mine)
    for term, want in (
        (person["证件号码"], mine),
        (person["证件号码"].lower() if person["证件号码"].endswith("X") else f" {person['证件号码']} ", mine),
        (person["姓名"], [x for x in lines if x["姓名"] == person["姓名"]]),
        (person["户编号"], household),
    ):
        sent = b.client.post(
            f"/runs/{run_id}/payments", data={"csrf": b.token, "q": term}, follow_redirects=False
        )
        assert sent.status_code == 303
        where = sent.headers["location"]
        assert re.fullmatch(rf"/runs/{run_id}/payments\?k=[a-p]{{32}}", where), where
        assert term.strip() not in where
        r = b.get(where)
        assert _matched(r.text) == _expect(want), term
        assert sorted(x[5] for x in _rows(r.text)) == sorted(x["户编号"] for x in want)
        _no_full_id(r.text, lines)
        assert term.strip() not in str(r.url)
    r = b.post(f"/runs/{run_id}/payments", {"q": person["证件号码"]})
    assert f"查询 证件号码:<b>{mask_id(person['证件号码'])}</b>" in r.text
    k = r.url.params["k"]
    # changing a filter keeps the search (the form carries the token, not the number)
    r = b.post(f"/runs/{run_id}/payments", {"k": k, "program": person["项目"]})
    assert r.url.params["k"] == k and _matched(r.text) == _expect(
        [x for x in mine if x["项目"] == person["项目"]]
    )
    r = b.post(f"/runs/{run_id}/payments", {"q": "110101199003070000"})
    assert _matched(r.text) == ("0", "0.00 元") and "没有与所填姓名、证件号码或户编号相符" in r.text
    for record in caplog.records:  # the requests' lines (httpx logs every URL) and anything else logged
        _no_full_id(record.getMessage(), lines)
    assert b.get(f"/runs/{run_id}/payments?k={person['证件号码']}").status_code == 400  # only tokens


def test_another_towns_run_a_failed_run_and_a_changed_file_are_not_listed(
    app: Any, browser: Any, seeded: Any, tmp_path: Path
) -> None:
    b, run_id, lines = seeded
    add_user(app, "shuanghe", "caseworker", "双河镇")
    other = browser("shuanghe")
    assert other.get(f"/runs/{run_id}/payments").status_code == 404
    assert other.post(f"/runs/{run_id}/payments", {"q": lines[0]["姓名"]}).status_code == 404
    r = other.upload(town_roster(tmp_path, "双河镇"))
    r = other.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2031"})  # outside the rules
    failed = str(r.url).rsplit("/", 1)[1]
    assert "计算失败" in r.text and other.get(f"/runs/{failed}/payments").status_code == 404
    add_user(app, "admin", "admin")
    assert browser("admin").get(f"/runs/{run_id}/payments").status_code == 404
    add_user(app, "auditor", "auditor")
    assert browser("auditor").get(f"/runs/{run_id}/payments").status_code == 200
    assert b.get(f"/runs/{run_id}/payments").status_code == 200  # now parsed and kept
    path = app.state.settings.data_dir / "runs" / run_id / "payments.csv"
    path.write_bytes(path.read_bytes().replace(b",955.00,", b",9955.00,", 1))
    r = b.get(f"/runs/{run_id}/payments")
    assert r.status_code == 409 and "校验值不一致" in r.text
