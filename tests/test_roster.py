"""Reading rosters: xlsx (typed cells), CSV in three encodings, Parquet, aliases, blank lines, bad headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from helpers import household_rows
from subsidy_engine.errors import FileFormatError, HeaderError
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.schema import COLUMNS
from subsidy_engine.roster.validate import validate

HEADER = [c.name for c in COLUMNS]


def _rows() -> list[dict[str, object]]:
    return household_rows(
        [
            {
                "户类型": "脱贫户",
                "低保类别": "农村",
                "低保起始月": "2022-01",
                "家庭月人均收入": "300.5",
                "members": [
                    {
                        "姓名": "张一",
                        "与户主关系": "户主",
                        "born": "1970-03-01",
                        "低保在保": "是",
                        "务工地点": "市外",
                    },
                    {
                        "姓名": "张二",
                        "与户主关系": "配偶",
                        "born": "1972-05-01",
                        "sex": "女",
                        "低保在保": "是",
                    },
                ],
            },
            {
                "members": [
                    {"姓名": "李三", "与户主关系": "户主", "born": "1985-07-09", "死亡日期": "2023-06-15"}
                ]
            },
        ]
    )


def _write_csv(
    path: Path, rows: list[dict[str, object]], encoding: str, header: list[str] | None = None
) -> None:
    frame = pd.DataFrame(rows, columns=HEADER)
    if header:
        frame.columns = pd.Index(header)
    frame.to_csv(path, index=False, encoding=encoding, lineterminator="\n")


def _summary(path: Path) -> list[tuple[object, ...]]:
    v = validate(read_roster(path))
    assert v.rows_rejected == 0, v.rejects.to_string()
    p = v.persons
    return list(
        zip(
            p["_row"],
            p["name"],
            p["id_number"],
            p["income_per_capita_month"],
            p["died_on"],
            p["dibao_from"],
            strict=True,
        )
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_give_the_same_records(tmp_path: Path, encoding: str) -> None:
    ref = tmp_path / "ref.csv"
    _write_csv(ref, _rows(), "utf-8")
    other = tmp_path / f"{encoding}.csv"
    _write_csv(other, _rows(), encoding)
    assert _summary(other) == _summary(ref)


def test_xlsx_with_typed_cells_and_parquet_match_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = _rows()
    csv_path = tmp_path / "r.csv"
    _write_csv(csv_path, rows, "utf-8")
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        cells: list[object] = [r.get(h, "") or None for h in HEADER]
        if r["低保类别"]:
            cells[HEADER.index("家庭月人均收入")] = 300.5  # a numeric cell
            cells[HEADER.index("低保起始月")] = dt.datetime(2022, 1, 15)  # a date cell: its month is taken
        if r.get("死亡日期"):
            cells[HEADER.index("死亡日期")] = dt.datetime(2023, 6, 15)
        ws.append(cells)
    xlsx = tmp_path / "r.xlsx"
    wb.save(xlsx)
    parquet = tmp_path / "r.parquet"
    pd.DataFrame(rows, columns=HEADER).astype(str).to_parquet(parquet, index=False)
    assert _summary(xlsx) == _summary(csv_path) == _summary(parquet)


def test_english_aliases_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "alias.csv"
    aliases = [c.alias for c in COLUMNS]
    frame = pd.DataFrame(_rows(), columns=HEADER)
    frame.columns = pd.Index(aliases)
    frame["备注"] = "x"
    frame.to_csv(path, index=False)
    raw = read_roster(path)
    assert raw.ignored_columns == ["备注"]
    ref = tmp_path / "ref.csv"
    _write_csv(ref, _rows(), "utf-8")
    assert _summary(path) == _summary(ref)


def test_blank_lines_are_not_rows_but_row_numbers_count_them(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    _write_csv(ref, _rows(), "utf-8")
    lines = ref.read_text(encoding="utf-8").split("\n")
    gappy = tmp_path / "gaps.csv"
    gappy.write_text("\n".join([lines[0], lines[1], "", ",,,", lines[2], lines[3], "", ""]), encoding="utf-8")
    raw = read_roster(gappy)
    assert raw.rows_read == 3
    assert list(raw.frame["_row"]) == [2, 5, 6]


def test_missing_required_column_fails_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    frame = pd.DataFrame(_rows(), columns=HEADER).drop(columns=["证件号码", "户类型"])
    frame.to_csv(path, index=False)
    with pytest.raises(HeaderError, match=r"缺少必需的列: 户类型\(household_type\)、证件号码\(id_number\)"):
        read_roster(path)


def test_one_column_named_twice_fails_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    frame = pd.DataFrame(_rows(), columns=HEADER)
    frame["household_id"] = frame["户编号"]
    frame.to_csv(path, index=False)
    with pytest.raises(HeaderError, match="表头重复: '户编号' 与 'household_id' 指同一列 户编号"):
        read_roster(path)


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("x.xlsx", b"this is not a zip file", "无法读取为 Excel 工作簿"),
        ("x.parquet", b"PAR1 nope", "无法读取为 Parquet 文件"),
        ("x.csv", b"", "文件是空的,没有表头行"),
        ("x.csv", b"\x00\x01\x02binary", "不是文本 CSV 文件"),
        ("x.doc", b"hello", "不支持的文件类型 '.doc'"),
    ],
)
def test_malformed_files_give_one_clear_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=message):
        read_roster(path)


def test_a_row_longer_than_the_header_is_reported_not_dropped(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    _write_csv(ref, _rows(), "utf-8")
    lines = ref.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3] + ",多出来"
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    v = validate(read_roster(path))
    assert v.rows_read == 3
    r = v.rejects
    assert list(r.loc[r["原因代码"] == "ROW_TOO_LONG", "值"]) == ["多出来"]


@pytest.mark.parametrize("encoding,bom", [("utf-8", True), ("gb18030", False)])
def test_windows_line_endings_read_the_same(tmp_path: Path, encoding: str, bom: bool) -> None:
    ref = tmp_path / "ref.csv"
    _write_csv(ref, _rows(), "utf-8")
    text = ref.read_text(encoding="utf-8").replace("\n", "\r\n")
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode(encoding))
    assert _summary(crlf) == _summary(ref)
