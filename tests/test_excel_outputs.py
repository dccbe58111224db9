"""The Excel-ready files: payments.xlsx of `subsidy evaluate --format xlsx` (frozen bold header, filter, widths,
amounts as exact numbers shown #,##0.00, IDs as text) and the CSV for Excel (BOM, CRLF, IDs kept text)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from subsidy_engine.run.excel import excel_csv_bytes, read_machine_csv
from test_cli import SMALL, run


def test_evaluate_writes_an_excel_ready_payment_list(tmp_path: Path) -> None:
    out = tmp_path / "o"
    src = SMALL / "rural-dibao-severely-disabled.csv"
    assert run("evaluate", str(src), "--period", "2023", "--out", str(out), "--format", "xlsx")[0] == 0
    csv_rows = read_machine_csv((out / "payments.csv").read_bytes())
    wb = load_workbook(out / "payments.xlsx")
    assert wb.sheetnames == ["发放名单"]
    ws = wb["发放名单"]
    header = [c.value for c in ws[1]]
    assert header == list(csv_rows.columns)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:J{len(csv_rows) + 1}"
    assert ws.column_dimensions["E"].width >= 18  # an 18-digit 证件号码 fits
    money, ident, household = (
        header.index("金额") + 1,
        header.index("证件号码") + 1,
        header.index("户编号") + 1,
    )
    for r, line in enumerate(csv_rows.itertuples(index=False), start=2):
        amount = ws.cell(r, money)
        assert amount.data_type == "n" and amount.number_format == "#,##0.00"
        assert Decimal(str(amount.value)) == Decimal(line.金额)
        assert ws.cell(r, ident).data_type == "s" and ws.cell(r, ident).value == line.证件号码
        assert ws.cell(r, household).data_type == "s" and ws.cell(r, household).value == line.户编号


def test_csv_for_excel_has_a_bom_crlf_and_text_ids() -> None:
    frame = pd.DataFrame(
        {
            "证件号码": ["500119194001010019", "50011919400101001X"],
            "户编号": ["5001192030010041", ""],
            "姓名": ["=HYPERLINK(1)", "李四"],
            "金额": ["1234.50", "-3.00"],
        }
    )
    data = excel_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8").removeprefix("\ufeff").split("\r\n")
    assert lines[0] == "证件号码,户编号,姓名,金额"
    assert lines[1] == "\t500119194001010019,\t5001192030010041,'=HYPERLINK(1),1234.50"
    assert lines[2] == "\t50011919400101001X,,李四,-3.00"
    assert lines[3] == ""
