"""diff: paid (实发) against computed (应发) — missing, extra, over, under, per line and in totals, exact money."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from audit_helpers import SMALL, paid_lines
from helpers import run
from subsidy_engine.audit.diff import DIFF_COLUMNS, diff_files

COMPUTED = SMALL / "tuopin-vocational-migrant.expected.csv"
H = "500119102007,"
CHEN, ZHOU, HAO, LI = (
    "500119197502144019",
    "500119197706304029",
    "500119200705014059",
    "50011919480808406X",
)
V = ",兴隆镇,永福村,"


def _paid(tmp_path: Path) -> Path:
    """The computed list without 规则/依据, with one line missing, one extra, one over, one under, one bad line,
    and the 中职 student's two March lines in the other order (a multiset: no difference)."""
    p = tmp_path / "paid.csv"
    p.write_text(
        paid_lines(
            f"2023-01,medical_premium,{H}{CHEN},陈建国{V}50.00",
            f"2023-01,medical_premium,{H}{HAO},陈浩{V}50.00",
            f"2023-03,education_aid,{H}{HAO},陈浩{V}1500.00",
            f"2023-03,education_aid,{H}{HAO},陈浩{V}1000",
            f"2023-09,education_aid,{H}{HAO},陈浩{V}1000.00",
            f"2023-09,education_aid,{H}{HAO},陈浩{V}1200.00",
            f"2023-12,migrant_transport,{H}{CHEN},陈建国{V}250.00",
            f"2023-12,migrant_transport,{H}{ZHOU},周晓梅{V}318.50",
            f"2023-12,migrant_transport,{H}{LI},李玉珍{V}50.00",
            f'2023-12,tekun,{H}{LI},李玉珍{V}"1,000.00"',
        ),
        encoding="utf-8",
    )
    return p


def test_diff_reports_each_kind_of_difference_line_by_line(tmp_path: Path) -> None:
    r = diff_files(_paid(tmp_path), COMPUTED)
    got = r.lines[[*DIFF_COLUMNS[:3], "证件号码", "应发金额", "实发金额", "差额", "说明"]].values.tolist()
    assert got == [
        ["missing", "2023-01", "medical_premium", ZHOU, "50.00", "", "-50.00", "应发未发"],
        ["amount", "2023-09", "education_aid", HAO, "1500.00", "1200.00", "-300.00", "少发"],
        ["extra", "2023-12", "migrant_transport", LI, "", "50.00", "50.00", "不应发而发"],
        ["amount", "2023-12", "migrant_transport", CHEN, "200.00", "250.00", "50.00", "超标准"],
    ]
    assert r.bad_lines.values.tolist() == [
        ["实发", 11, "金额", "1,000.00", "金额只能是数字和小数点(不带符号、千分位或货币符号): '1,000.00'"]
    ]
    assert (r.due_fen, r.paid_fen) == (566850, 566850 - 5000 - 30000 + 5000 + 5000)
    total = r.by_program.iloc[-1].to_dict()
    assert total == {
        "项目": "合计",
        "应发合计": "5668.50",
        "实发合计": "5418.50",
        "应发未发笔数": 1,
        "应发未发金额": "50.00",
        "不应发而发笔数": 1,
        "不应发而发金额": "50.00",
        "超标准笔数": 1,
        "超标准金额": "50.00",
        "少发笔数": 1,
        "少发金额": "300.00",
    }
    assert r.by_village[["乡镇", "行政村", "应发合计", "实发合计"]].values.tolist() == [
        ["兴隆镇", "永福村", "5668.50", "5418.50"],
        ["合计", "", "5668.50", "5418.50"],
    ]
    assert not r.agree


def test_diff_command_prints_the_verdict_and_writes_csv_and_xlsx(tmp_path: Path) -> None:
    code, out, _ = run(
        "diff",
        str(_paid(tmp_path)),
        str(COMPUTED),
        "--out",
        str(tmp_path / "d"),
        "--xlsx",
        str(tmp_path / "d.xlsx"),
    )
    assert code == 1
    assert out == (
        "应发 5668.50 元,实发 5418.50 元\n"
        "差异 4 笔:应发未发 1 笔 50.00 元,不应发而发 1 笔 50.00 元,超标准 1 笔 50.00 元,少发 1 笔 300.00 元\n"
        "无法读取的行 1 条:\n"
        "文件  行号  列    值        说明\n"
        "实发    11  金额  1,000.00  金额只能是数字和小数点(不带符号、千分位或货币符号): '1,000.00'\n"
        "项目                  应发     实发  应发未发  不应发而发  超标准    少发\n"
        "education_aid      5000.00  4700.00      0.00        0.00    0.00  300.00\n"
        "medical_premium     150.00   100.00     50.00        0.00    0.00    0.00\n"
        "migrant_transport   518.50   618.50      0.00       50.00   50.00    0.00\n"
        "类型        发放月份  项目               户编号        证件号码               应发     实发\n"
        "应发未发    2023-01   medical_premium    500119102007  500119********4029    50.00\n"
        "少发        2023-09   education_aid      500119102007  500119********4059  1500.00  1200.00\n"
        "不应发而发  2023-12   migrant_transport  500119102007  500119********406X             50.00\n"
        "超标准      2023-12   migrant_transport  500119102007  500119********4019   200.00   250.00\n"
        f"已写入 {tmp_path / 'd' / 'diff.csv'}\n"
        f"已写入 {tmp_path / 'd' / 'bad_lines.csv'}\n"
        f"已写入 {tmp_path / 'd.xlsx'}\n"
    )
    csv = pd.read_csv(tmp_path / "d" / "diff.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == DIFF_COLUMNS and len(csv) == 4
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    assert wb.sheetnames == ["差异按项目", "差异按行政村", "差异明细", "无法读取的行"]
    assert [c.value for c in wb["差异明细"][1]] == DIFF_COLUMNS


def test_identical_lists_agree_and_exit_0(tmp_path: Path) -> None:
    code, out, _ = run("diff", str(COMPUTED), str(COMPUTED))
    assert code == 0
    assert out == "应发 5668.50 元,实发 5668.50 元\n两份名单一致:没有差异\n"


def test_a_paid_xlsx_is_read_like_the_csv(tmp_path: Path) -> None:
    frame = pd.read_csv(_paid(tmp_path), dtype=str, keep_default_na=False)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(frame.columns))
    for row in frame.values.tolist():
        row[-1] = float(row[-1]) if row[-1].replace(".", "").isdigit() else row[-1]  # numeric money cells
        ws.append(row)
    wb.save(tmp_path / "paid.xlsx")
    a, b = diff_files(tmp_path / "paid.xlsx", COMPUTED), diff_files(_paid(tmp_path), COMPUTED)
    assert a.lines.equals(b.lines)
    assert a.bad_lines["行号"].tolist() == [11]


def test_a_paid_file_without_a_required_column_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "paid.csv"
    p.write_text("发放月份,项目,户编号,金额\n2023-01,dibao,H1,1.00\n", encoding="utf-8")
    code, out, err = run("diff", str(p), str(COMPUTED))
    assert code == 3 and out == ""
    assert err == f"错误: {p}: 缺少必需的列 证件号码(实发名单应与本系统的发放名单同列名)\n"
