"""The web app in a caseworker's words: explain in plain Chinese with the trace behind 详细计算过程, look-up by
姓名 within the run's roster, the 规则与标准 page (the handbook) and the roster template download."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from pathlib import Path
from typing import Any

import openpyxl

from conftest import add_user, write_roster
from subsidy_engine.roster.schema import COLUMNS


def _run(app: Any, browser: Any, tmp_path: Path, households: list[dict[str, Any]]) -> tuple[Any, str]:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(write_roster(tmp_path / "roster.csv", households))
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023"})
    return b, str(r.url).rsplit("/", 1)[1]


def _tekun(name: str, village: str, born: str) -> dict[str, Any]:
    return {
        "乡镇": "兴隆镇",
        "行政村": village,
        "members": [{"姓名": name, "与户主关系": "户主", "born": born, "特困人员": True}],
    }


def _pre(text: str, ident: str) -> str:
    m = re.search(rf'<pre id="{ident}">(.*?)</pre>', text, re.S)
    assert m, text
    return html.unescape(m.group(1))


def test_explain_is_plain_chinese_with_the_trace_behind_a_toggle(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b, run_id = _run(app, browser, tmp_path, [_tekun("孤老甲", "金花村", "1940-01-01")])
    r = b.post(f"/runs/{run_id}/explain", {"household": "H001"})
    assert r.status_code == 200
    plain = _pre(r.text, "explain")
    assert (
        "  孤老甲(户主): 享受:2023-01 至 2023-08 每月 932.00 元,2023-09 至 2023-12 每月 955.00 元,全年 11,276.00 元。"
        in plain
    )
    assert re.findall(r"[A-Za-z_]{2,}", plain) == []
    assert '<details id="trace-toggle"><summary>详细计算过程</summary>' in r.text
    trace = _pre(r.text, "trace")
    assert "符合,955.00 元" in trace and "tekun and alive" in trace


def test_look_up_by_name_within_the_runs_roster(app: Any, browser: Any, tmp_path: Path) -> None:
    households = [
        _tekun("孤老甲", "金花村", "1940-01-01"),
        _tekun("王芳", "金花村", "1941-02-01"),
        _tekun("王芳", "白茶村", "1942-03-03"),
    ]
    b, run_id = _run(app, browser, tmp_path, households)
    ids = re.findall(r"\d{17}[\dX]", (tmp_path / "roster.csv").read_text(encoding="utf-8"))
    r = b.post(f"/runs/{run_id}/explain", {"name": "孤老甲"})
    assert r.status_code == 200 and f"证件号码 {ids[0]}" in _pre(r.text, "explain")
    r = b.post(f"/runs/{run_id}/explain", {"name": "王芳"})
    assert r.status_code == 200 and "名册中有 2 人姓名为 王芳" in r.text
    assert ids[1] not in r.text and ids[2] not in r.text
    assert f"{ids[1][:6]}********{ids[1][-4:]}" in r.text
    assert 'name="household" value="H002"' in r.text and 'name="household" value="H003"' in r.text
    r = b.post(f"/runs/{run_id}/explain", {"household": "H003"})
    assert "王芳(户主)" in _pre(r.text, "explain")
    r = b.post(f"/runs/{run_id}/explain", {"name": "李四"})
    assert r.status_code == 404 and "没有姓名为 李四 的人" in r.text
    r = b.post(f"/runs/{run_id}/explain", {"name": "王芳", "household": "H002"})
    assert r.status_code == 400
    add_user(app, "shuanghe", "caseworker", "双河镇")
    assert browser("shuanghe").post(f"/runs/{run_id}/explain", {"name": "王芳"}).status_code == 404


def test_the_rules_page_serves_the_handbook(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    assert 'href="/rules"' in b.get("/uploads").text
    r = b.get("/rules?date=2024-10-01")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "最低生活保障金" in r.text and "渝民规〔2025〕6号" in r.text
    assert len(re.findall(r'<tr class="current[ "]', r.text)) == 18
    style = re.search(r"<style>(.*?)</style>", r.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'self' 'sha256-{digest}'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert b.get("/rules?date=2024-13-01").status_code == 400
    assert browser().get("/rules").url.path == "/login"


def test_the_roster_template_downloads_from_the_upload_page(app: Any, browser: Any) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    assert 'href="/roster-template.xlsx"' in b.get("/uploads").text
    r = b.get("/roster-template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in ws[1]] == [c.name for c in COLUMNS]
