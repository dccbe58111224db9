"""The sheet scan that runs before the spreadsheet reader: the regular-expression scan and the expat scan agree
with each other and with python-calamine on where cells are, whatever form the cell tags take, and find the
error cells and uncomputed formulas that python-calamine reads as blank."""

from __future__ import annotations

import io
import zipfile

import pytest
from corpus import xlsx
from python_calamine import CalamineWorkbook

from subsidy_engine.errors import FileFormatError
from subsidy_engine.limits import Limits
from subsidy_engine.roster import xlsx_guard, xlsx_scan

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _t(ref: str, text: str, attrs: str = "") -> str:
    return f'<c r="{ref}"{attrs} t="inlineStr"><is><t>{text}</t></is></c>'


FORMS = {
    "usual": f'<row r="1">{_t("A1", "a")}{_t("C1", "b")}</row><row r="4">{_t("B4", "c")}</row>',
    "prefixed": f'<x:row xmlns:x="{MAIN}" r="2"><x:c r="D2" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>',
    "no_references": '<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row>'
    '<row r="7"><c t="inlineStr"><is><t>c</t></is></c></row>',
    "reference_then_none": f'<row r="3">{_t("E3", "a")}<c t="inlineStr"><is><t>b</t></is></c></row>',
    "lowercase_reference": '<row r="2"><c r="f9" t="inlineStr"><is><t>a</t></is></c></row>',
    "single_quotes": "<row r='1'><c r='G5' t='inlineStr'><is><t>a</t></is></c></row>",
    "angle_bracket_in_value": f'<row r="1">{_t("A1", "a")}<c r="H2" foo="x>y" t="inlineStr"><is><t>b</t></is></c></row>',
    "text_that_looks_like_an_attribute": '<row r="1">' + _t("A1", ' t="e"') + _t("B3", "x") + "</row>",
    "error_cells": '<row r="1"><c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="B1" t="e"><v>#N/A</v></c>'
    '<c r="C2" t="e"/></row>',
}


def _scan(
    sheet: str, chunk: int = 1 << 22, monkeypatch: pytest.MonkeyPatch | None = None
) -> xlsx_guard.Workbook:
    if monkeypatch is not None:
        monkeypatch.setattr(xlsx_guard, "CHUNK", chunk)
    return xlsx_guard.check_xlsx(xlsx([("S", f"<sheetData>{sheet}</sheetData>")]), "t.xlsx", Limits())


def _expat(sheet: str) -> tuple[int, int, list[xlsx_scan.Mark]]:
    data = xlsx([("S", f"<sheetData>{sheet}</sheetData>")])
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    return xlsx_scan._expat_scan(xlsx_guard._inflate(memoryview(data), info), 10**6)


def _calamine_extent(sheet: str) -> tuple[int, int]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(xlsx([("S", f"<sheetData>{sheet}</sheetData>")])))
    s = wb.get_sheet_by_index(0)
    return s.end[0] + 1, s.end[1] + 1


REGULAR = {"usual", "error_cells"}  # the forms the regular-expression scan reads without expat


@pytest.mark.parametrize("form", list(FORMS))
def test_the_scans_agree_with_the_reader(form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[bool] = []
    expat_scan = xlsx_scan._expat_scan
    monkeypatch.setattr(xlsx_scan, "_expat_scan", lambda *a: used.append(True) or expat_scan(*a))
    book = _scan(FORMS[form])
    assert bool(used) == (form not in REGULAR)
    rows, cols = _calamine_extent(FORMS[form])
    if form == "error_cells":  # an error cell without a value (C2) is counted, the reader leaves it out
        assert (book.rows, book.cols) == (rows + 1, cols + 1)
    else:
        assert (book.rows, book.cols) == (rows, cols)
    rows, cols, marks = _expat(FORMS[form])
    assert (rows, cols) == (book.rows, book.cols)
    assert [(m.row, m.col, m.code, m.text) for m in marks] == [
        (m.row, m.col, m.code, m.text) for m in book.marks
    ]


def test_error_cells_and_uncomputed_formulas_are_found() -> None:
    sheet = (
        FORMS["error_cells"]
        + '<row r="3"><c r="A3"><f>SUM(B1:B2)</f></c><c r="B3"><f t="shared" si="0"/></c>'
        + '<c r="C3" t="str"><f>IF(1,"","")</f><v></v></c><c r="D3"><f>1+1</f><v>2</v></c></row>'
    )
    found = [(m.row, m.col, m.code, m.text) for m in _scan(sheet).marks]
    assert found == [
        (1, 0, "CELL_ERROR", "#DIV/0!"),
        (1, 1, "CELL_ERROR", "#N/A"),
        (2, 2, "CELL_ERROR", "#错误"),
        (3, 0, "FORMULA_NO_VALUE", "SUM(B1:B2)"),
        (3, 1, "FORMULA_NO_VALUE", ""),
    ]
    marks = _expat(sheet)[2]
    assert [(m.row, m.col, m.code, m.text) for m in marks] == found


@pytest.mark.parametrize("chunk", [7, 64, 301])
def test_cells_cut_between_chunks_are_scanned_whole(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = "".join(
        f'<row r="{i}">{_t(f"A{i}", "x" * (i % 13))}<c r="B{i}" t="e"><f>NA()</f><v>#N/A</v></c>'
        f'<c r="C{i}"><f>A{i}&amp;"y"</f></c></row>'
        for i in range(1, 40)
    )
    whole = _scan(sheet)
    monkeypatch.setattr(xlsx_scan, "_expat_scan", None)  # the regular scan alone
    cut = _scan(sheet, chunk, monkeypatch)
    assert (cut.rows, cut.cols) == (whole.rows, whole.cols) == (39, 3)
    assert [(m.row, m.col, m.code, m.text) for m in cut.marks] == [
        (m.row, m.col, m.code, m.text) for m in whole.marks
    ]
    assert len(whole.marks) == 78 and whole.marks[1].text == 'A1&"y"'


def test_a_reference_given_twice_is_refused() -> None:
    # python-calamine takes the last `r` (here C5): the scan must not take the first
    with pytest.raises(FileFormatError, match="XML 格式错误"):
        _scan('<row r="1"><c r="A1" r="C5" t="inlineStr"><is><t>a</t></is></c></row>')


def test_the_used_range_counts_cells_far_apart() -> None:
    with pytest.raises(FileFormatError, match="300000 行 × 40 列,超过上限 10000000 个单元格"):
        _scan(f'<row r="1">{_t("A1", "a")}</row><row r="300000">{_t("AN300000", "z")}</row>')
