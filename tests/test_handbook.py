"""The policy handbook (`rules book`), the roster template (`roster template`) and `rules diff`."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import openpyxl

from helpers import make_id, run
from subsidy_engine.money import fen
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.schema import COLUMNS
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook
from subsidy_engine.rulebook.words import status_words, yuan


def _book(tmp_path: Path, *extra: str) -> tuple[str, str]:
    code, out, err = run("rules", "book", "--out", str(tmp_path / "book"), *extra)
    assert code == 0, err
    assert "handbook.html" in out and "handbook.md" in out
    return (
        (tmp_path / "book" / "handbook.html").read_text(encoding="utf-8"),
        (tmp_path / "book" / "handbook.md").read_text(encoding="utf-8"),
    )


def _values(entry_value: object) -> list[str]:
    if isinstance(entry_value, dict):
        return [yuan(fen(v)) for v in entry_value.values()]
    return [yuan(fen(entry_value))]  # type: ignore[arg-type]


def test_the_book_states_every_value_of_every_parameter_with_its_notice_and_status(tmp_path: Path) -> None:
    page, md = _book(tmp_path)
    rb = load_rulebook()
    checked = 0
    for p in rb.params.values():
        md_section = md.split(f"### 参数: {p.description}\n", 1)[1].split("\n### ", 1)[0]
        html_section = page.split(f"<h3>参数: {html.escape(p.description)}</h3>", 1)[1].split("</table>", 1)[
            0
        ]
        for start, entry in p.entries:
            if entry is None:
                assert f"| {start} 起 | 无(本规则库不覆盖)" in md_section
                continue
            row = next(line for line in md_section.splitlines() if line.startswith(f"| {start} |"))
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert cells[1:-2] == _values(entry.value), (p.name, start)
            assert cells[-2:] == [entry.reference, status_words(entry)]
            html_row = next(r for r in html_section.split("<tr") if f"<td>{start}</td>" in r)
            for v in [*_values(entry.value), entry.reference, status_words(entry)]:
                assert f"<td>{html.escape(v)}</td>" in html_row, (p.name, start, v)
            checked += 1
    assert checked == sum(e is not None for p in rb.params.values() for _, e in p.entries) > 50
    assert "正式(起始月份为假定)" in md and "| 假定 |" in md


def test_the_book_reads_like_a_handbook(tmp_path: Path) -> None:
    page, md = _book(tmp_path)
    rb = load_rulebook()
    for text in (page, md):
        for p in rb.programs:
            assert p.title in text and p.description in text
        for d in rb.definitions:
            assert d.title in text
    assert "- 条件: 是当月有效的低保户;户内有 〔户内在保人数〕 名低保在保对象" in md
    assert (
        "- 金额: 户内在保人数 × (城乡最低生活保障标准(按低保类别) − 家庭月人均收入)"
        " + 户内在保重点保障对象人数 × 低保重点保障对象每人每月加发金额(按低保类别)" in md
    )
    assert (
        "- 家庭月人均收入 〔家庭月人均收入〕 元低于城市/农村低保标准 〔城乡最低生活保障标准(按低保类别)〕 元"
        in md
    )
    assert "- 年满 16 岁\n" in md  # the person's value "(年龄 {age} 岁)" is left out of the book
    # one self-contained printable file
    assert page.startswith("<!doctype html>") and "<style>" in page and "@media print" in page
    assert not re.search(r"<link|<script|<img|src=|url\(|https?:", page)
    assert re.findall(r'href="#([\w-]+)"', page) and all(
        f'id="{a}"' in page for a in re.findall(r'href="#([\w-]+)"', page)
    )


def test_the_handbook_in_the_repository_is_current(tmp_path: Path) -> None:
    page, md = _book(tmp_path)
    docs = Path(__file__).resolve().parents[1] / "docs" / "handbook"
    assert (docs / "handbook.md").read_text(encoding="utf-8") == md, "run `make handbook`"
    assert (docs / "handbook.html").read_text(encoding="utf-8") == page, "run `make handbook`"


def test_the_values_in_force_on_a_date_are_marked(tmp_path: Path) -> None:
    page, md = _book(tmp_path, "--date", "2024-10-01")
    rb = load_rulebook()
    assert len(re.findall(r'<tr class="current[ "]', page)) == len(rb.params)
    assert '<tr class="current assumed"><td>▶ 2024-09-01</td>' in page
    assert (
        "| **▶ 2024-09-01** | **750.00** | **610.00** | **渝民规〔2025〕6号** | **正式(起始月份为假定)** |"
        in md
    )
    assert "## 2024-10-01 有效的参数" in md
    assert (
        "| 最低生活保障金 | 城乡最低生活保障标准 | 城市 750.00 / 农村 610.00 | 元/人·月 | 2024-09-01 |" in md
    )
    code, _, err = run("rules", "book", "--out", str(tmp_path / "x"), "--date", "2024-13-01")
    assert code == 2 and "--date" in err
    code, _, err = run("rules", "book", "--out", str(tmp_path / "book"))
    assert code == 5 and "--overwrite" in err  # the folder has the book already
    assert run("rules", "book", "--out", str(tmp_path / "book"), "--overwrite")[0] == 0


def test_the_roster_template(tmp_path: Path) -> None:
    path = tmp_path / "模板.xlsx"
    code, _, err = run("roster", "template", "--out", str(path))
    assert code == 0, err
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == [c.name for c in COLUMNS]
    assert ws.freeze_panes == "A2" and ws.max_row == 1  # no description row: it would be read as data
    letters = {c.alias: openpyxl.utils.get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    for i, c in enumerate(COLUMNS, start=1):
        comment = ws.cell(row=1, column=i).comment
        assert comment is not None and ("必填" in comment.text or "选填" in comment.text)
        assert ws.column_dimensions[letters[c.alias]].width >= 10
    for alias in ("id_number", "disability_cert", "household_id", "name", "died_on", "dibao_from"):
        assert ws.column_dimensions[letters[alias]].number_format == "@", alias
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    for c in COLUMNS:
        if c.kind in ("enum", "bool"):
            values = c.values if c.kind == "enum" else ("是", "否")
            assert lists[f"{letters[c.alias]}2:{letters[c.alias]}5001"] == '"' + ",".join(values) + '"'
    assert len(lists) == sum(c.kind in ("enum", "bool") for c in COLUMNS)
    guide = wb["填写说明"]
    assert [r[0].value for r in guide.iter_rows(min_row=2, max_row=len(COLUMNS) + 1)] == [
        c.name for c in COLUMNS
    ]
    # filled in and read back as it is
    row = {c.name: "" for c in COLUMNS}
    row.update({"户编号": "H001", "乡镇": "兴隆镇", "行政村": "金花村", "户类型": "一般农户"})
    ws.append(
        list({**row, "姓名": "张三", "证件号码": make_id("1958-04-10", 1), "与户主关系": "户主"}.values())
    )
    wife = make_id("1960-11-02", 2, male=False)
    ws.append(
        list(
            {**row, "姓名": "李四", "证件号码": wife, "与户主关系": "配偶", "残疾证号": wife + "12"}.values()
        )
    )
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    v = validate(read_roster(filled))
    assert (v.rows_read, v.rows_accepted) == (2, 2), v.rejects
    assert list(v.persons["name"]) == ["张三", "李四"]
    code, _, err = run("roster", "template", "--out", str(tmp_path / "t.csv"))
    assert code == 2 and ".xlsx" in err
    code, _, err = run("roster", "template", "--out", str(path))
    assert code == 5 and "已存在" in err
    assert run("roster", "template", "--out", str(path), "--overwrite")[0] == 0
    code, _, err = run("roster", "template", "--out", str(tmp_path / "no" / "t.xlsx"))
    assert code == 5 and "不存在" in err


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "new"
    shutil.copytree(DEFAULT_RULES, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_rules_diff_between_two_rulebooks(tmp_path: Path) -> None:
    new = _copy(tmp_path)
    code, out, _ = run("rules", "diff", str(DEFAULT_RULES), str(new))
    assert code == 0 and out.endswith("没有变化\n")
    _edit(
        new / "definitions.yaml",
        "- when: income_per_capita_month < dibao_standard",
        "- when: income_per_capita_month <= dibao_standard",
    )
    _edit(new / "disability_living.yaml", "2026-01-01: {value: 100,", "2026-01-01: {value: 105,")
    _edit(
        new / "tekun.yaml", "title: 特困人员基本生活费\ndescription", "title: 特困供养基本生活费\ndescription"
    )
    _edit(
        new / "dibao.yaml", "phrase_not: 未满 70 岁(年龄 {age} 岁)", "phrase_not: 不到 70 岁(年龄 {age} 岁)"
    )
    code, out, _ = run("rules", "diff", str(DEFAULT_RULES), str(new))
    assert code == 1
    body = out.split("\n", 1)[1]
    assert body == (
        "项目:\n"
        "  项目名称: 特困人员基本生活费 → 特困供养基本生活费\n"
        "定义:\n"
        "  低保户当月有效: “家庭月人均收入低于城乡最低生活保障标准(按低保类别)” → "
        "“家庭月人均收入不高于城乡最低生活保障标准(按低保类别)”\n"
        "参数:\n"
        "  困难残疾人生活补贴标准(困难残疾人生活补贴):\n"
        "    自 2026-01-01 起 100.00 元/人·月(依据 重庆市民政局2025-12-30通知(2026-01-01起),正式) → "
        "105.00 元/人·月(依据 重庆市民政局2025-12-30通知(2026-01-01起),正式)\n"
        "条件用语:\n"
        "  “年满 70 岁” → “年满 70 岁”(不满足时: “未满 70 岁” → “不到 70 岁”)\n"
    )
    assert not re.search(r"[a-z_]{3,}", body)  # in the rulebook's words, no identifiers


def test_rules_diff_between_two_dates() -> None:
    code, out, _ = run("rules", "diff", "--date", "2025-12-01", "--date", "2026-01-01")
    assert code == 1
    assert (
        "  困难残疾人生活补贴标准(困难残疾人生活补贴): 2025-12-01 80.00 元/人·月(依据 重庆市残疾人两项补贴标准"
        "(2022-10-01起),正式) → 2026-01-01 100.00 元/人·月(依据 重庆市民政局2025-12-30通知(2026-01-01起),正式)"
    ) in out
    assert (
        "城乡最低生活保障标准" not in out
    )  # 770 / 630 on both days, assumed on both (a 2025 start; carried on)
    assert (
        "  义务教育初中非寄宿生生活费补助(寄宿生标准的一半)(教育资助): 2025-12-01 375.00 元/人·学期(依据 义务教育"
        "生活补助提标(2025年秋季学期起),假定) → 2026-01-01 375.00 元/人·学期(依据 义务教育生活补助提标"
        "(2025年秋季学期起),正式)"
    ) in out  # the same value: only its start month was assumed, and that was in 2025
    code, out, _ = run("rules", "diff", "--date", "2023-02-01", "--date", "2023-03-01")
    assert code == 0 and out.endswith("没有变化\n")
    code, _, err = run("rules", "diff", "--date", "2023-02-01")
    assert code == 2 and "--date A --date B" in err
