"""CSV edges around the limits: line ends, quoted line breaks that are data and those that are not, short rows
in the careful reader, long cells in both readers."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import HEADER, csv_text, rows

from subsidy_engine.errors import FileFormatError
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import validate


def _persons(path: Path) -> list[tuple[object, ...]]:
    v = validate(read_roster(path))
    assert v.rows_rejected == 0, v.rejects.to_string()
    return list(v.persons[["_row", "name", "id_number", "ticket_amount"]].itertuples(index=False, name=None))


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_line_ends_read_alike(tmp_path: Path, newline: str) -> None:
    lf = tmp_path / "lf.csv"
    lines = csv_text().splitlines()
    lf.write_text("\n".join([*lines[:3], "", *lines[3:]]) + "\n", encoding="utf-8")  # with a blank line
    other = tmp_path / "other.csv"
    other.write_bytes(lf.read_bytes().replace(b"\n", newline.encode()))
    assert _persons(other) == _persons(lf)
    assert [r[0] for r in _persons(lf)] == [2, 3, 5, 6, 7]


def test_a_quoted_line_break_is_data_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    text = [t + "," for t in csv_text().splitlines()]
    text[0] += "备注"
    text[2] += '"重庆市南川区\n兴隆镇金花村3组"'
    path = tmp_path / "note.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert [r[0] for r in _persons(path)] == [2, 3, 4, 5, 6]


def test_quoted_line_breaks_beyond_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = [t + "," for t in csv_text().splitlines()]
    text[0] += "备注"
    text[3] += '"' + "\n" * 25 + '"'
    path = tmp_path / "breaks.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="文本第 4 行有一个半角双引号"):
        read_roster(path)
    monkeypatch.setenv("SUBSIDY_MAX_QUOTED_LINES", "30")
    assert len(_persons(path)) == 5


def test_short_rows_in_the_careful_reader(tmp_path: Path) -> None:
    records = [[r[h] for h in HEADER] for r in rows()]
    records[0] = records[0][:20]
    path = tmp_path / "gb.csv"
    path.write_bytes(csv_text(records).encode("gb18030"))
    r = validate(read_roster(path)).rejects
    short = r[r["原因代码"] == "ROW_TOO_SHORT"]
    assert list(short["行号"]) == [2] and list(short["列"]) == ["(缺少单元格)"]
    assert (
        f"本行只有 20 个单元格,比表头少,在校学段、是否寄宿、年级、务工地点、往返车票金额 等 {len(HEADER) - 20} 列"
        in short["说明"].iat[0]
    )


def test_a_header_with_an_unnamed_last_column_needs_no_cell_for_it(tmp_path: Path) -> None:
    text = csv_text().splitlines()
    text[0] += ","  # Excel's trailing comma under an empty header cell; the rows do not have it
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert len(_persons(path)) == 5


@pytest.mark.parametrize("careful", [False, True])
def test_a_long_cell_is_named_by_row_and_column_in_both_readers(tmp_path: Path, careful: bool) -> None:
    text = csv_text().replace("李三", "李" * 131_073)
    if careful:  # an empty line sends the file to the csv module; the row numbers count it
        text = text.replace("\n", "\n\n", 1)
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="utf-8")
    row = 5 if careful else 4
    with pytest.raises(FileFormatError, match=f"第 {row} 行 姓名\\(第 12 列\\)的单元格有 131073 个字符"):
        read_roster(path)


def test_a_header_of_500_columns_is_read(tmp_path: Path) -> None:
    text = csv_text().splitlines()
    extra = 500 - len(HEADER)
    text[0] += "".join(f",x{i}" for i in range(extra))
    path = tmp_path / "w.csv"
    path.write_text(
        "\n".join(t + ("," * extra if i else "") for i, t in enumerate(text)) + "\n", encoding="utf-8"
    )
    assert len(_persons(path)) == 5
    text[0] += ",one_more"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="有 501 列,超过上限 500 列"):
        read_roster(path)
