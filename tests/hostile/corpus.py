"""Hostile and clumsy roster files, built at test time, each with the outcome it must get.

`cases()` gives every file as a `Case` (name, file name, bytes, expected outcome); `case(name)` builds one.
The CLI test (`test_hostile_files.py`) runs each through `subsidy validate`; the web app's tests can upload the
same bytes and expect the same outcome (exit 3 ↔ HTTP 400 with the same message). Nothing here is stored in the
repository: zip bombs and giant headers are generated in a few hundred milliseconds.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from subsidy_engine.roster.idcard import check_char
from subsidy_engine.roster.schema import COLUMNS

HEADER = [c.name for c in COLUMNS]


@dataclass(frozen=True)
class Expected:
    exit: int  # `subsidy validate` exit code: 0 all accepted, 1 rows rejected, 3 the file refused
    message: str = ""  # a part of the one-line error (exit 3)
    reasons: tuple[str, ...] = ()  # reason codes that rejects.csv must hold
    accepted: int | None = None  # rows accepted, when the file is read
    risky: bool = (
        False  # could exhaust memory or abort if the guard regressed: run in a limited child process
    )


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    data: bytes
    expected: Expected


def _id(born: str, seq: int) -> str:
    f17 = f"500119{born.replace('-', '')}{seq * 2 + 1:03d}"
    return f17 + check_char(f17)


def rows() -> list[dict[str, str]]:
    """Five valid rows in three households (a 户主 each; one migrant worker with a ticket)."""
    people = [
        ("H001", "张一", "户主", "1950-03-01", {}),
        ("H001", "张二", "配偶", "1952-05-01", {}),
        ("H002", "李三", "户主", "1980-07-09", {"务工地点": "市外", "往返车票金额": "50"}),
        ("H002", "李四", "子女", "2010-01-02", {"在校学段": "初中"}),
        ("H003", "王五", "户主", "1940-11-11", {}),
    ]
    out = []
    for seq, (hh, name, rel, born, extra) in enumerate(people, start=1):
        r = dict.fromkeys(HEADER, "")
        r.update({"户编号": hh, "乡镇": "兴隆镇", "行政村": "金花村", "户类型": "一般农户"})
        r.update({"姓名": name, "证件号码": _id(born, seq), "与户主关系": rel}, **extra)
        out.append(r)
    return out


def csv_text(records: list[list[str]] | None = None, newline: str = "\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(HEADER)
    for r in records if records is not None else [[r[h] for h in HEADER] for r in rows()]:
        w.writerow(r)
    return buf.getvalue()


# --- xlsx, written by hand (so that any cell form can be made) ---------------------------------------------


def _cell(ref: str, value: str) -> str:
    text = value.replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def sheet_xml(table: list[list[str]], extra: str = "", raw_cells: dict[str, str] | None = None) -> str:
    """Rows of text cells (blank cells omitted); `raw_cells` replaces the cell at a reference with raw XML."""
    raw_cells = raw_cells or {}
    out = []
    for i, r in enumerate(table, start=1):
        cells = []
        for j, v in enumerate(r, start=1):
            ref = f"{_col(j)}{i}"
            if ref in raw_cells:
                cells.append(raw_cells.pop(ref))
            elif v != "":
                cells.append(_cell(ref, v))
        out.append(f'<row r="{i}">{"".join(cells)}</row>')
    return "<sheetData>" + "".join(out) + extra + "</sheetData>"


def xlsx(sheets: list[tuple[str, str]], members: dict[str, bytes] | None = None) -> bytes:
    """A workbook of (name, <sheetData>…</sheetData>) sheets, deflated like Excel's."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet_list = "".join(
        f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, (n, _) in enumerate(sheets, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{doc}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{doc}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {ns} {rel_ns}><sheets>{sheet_list}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}">{rels}</Relationships>',
    }
    for i, (_, data) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = f'<?xml version="1.0"?><worksheet {ns}>{data}</worksheet>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
        for name, data in (members or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def roster_table() -> list[list[str]]:
    return [HEADER] + [[r[h] for h in HEADER] for r in rows()]


def _error_cell(ref: str, error: str) -> str:
    return f'<c r="{ref}" t="e"><f>VLOOKUP(A2,Sheet2!A:B,2,FALSE)</f><v>{error}</v></c>'


def _declared_smaller(data: bytes, member: str, declared: int) -> bytes:
    """The zip with `member`'s uncompressed size written smaller than it is (in both headers)."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    struct.pack_into("<I", out, info.header_offset + 22, declared)
    at = data.find(b"PK\x01\x02", 0)
    while at >= 0:
        (name_len,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + name_len] == member.encode():
            struct.pack_into("<I", out, at + 24, declared)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def _bomb(megabytes: int) -> bytes:
    """A workbook whose sheet is `megabytes` MB of empty rows: a few KB once deflated."""
    src = zipfile.ZipFile(io.BytesIO(xlsx([("Sheet1", "<sheetData/>")])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, src.read(info))
                continue
            head, tail = src.read(info).split(b"<sheetData/>")
            with z.open(info.filename, "w") as f:
                f.write(head + b"<sheetData>")
                rows = b"<row/>" * ((1 << 20) // 6)
                for _ in range(megabytes):
                    f.write(rows)
                f.write(b"</sheetData>" + tail)
    return buf.getvalue()


def _ole(encrypted: bool) -> bytes:
    body = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    body += ("EncryptionInfo" if encrypted else "Workbook").encode("utf-16-le") + bytes(4096)
    return bytes(body)


# --- Parquet --------------------------------------------------------------------------------------------------


def _parquet(**columns: pa.Array) -> bytes:
    data: dict[str, object] = {h: [r[h] for r in rows()] for h in HEADER}
    data.update(columns)
    buf = io.BytesIO()
    pq.write_table(pa.table(data), buf)
    return buf.getvalue()


def _swallowing_quote() -> str:
    lines = csv_text().splitlines()
    body = [lines[0]] + lines[1:] * 6  # 30 data lines, households repeated (duplicates don't matter here)
    body[4] = body[4].replace(",李四,", ',"李四,', 1)  # a quote opening a cell on line 5 …
    body[14] = body[14].replace(",李四,", ',李四",', 1)  # … closed by the next stray one, on line 15
    return "\n".join(body) + "\n"


def _short_row() -> str:
    records = [[r[h] for h in HEADER] for r in rows()]
    records[2] = records[2][: HEADER.index("往返车票金额")]  # the migrant's ticket and 死亡日期 cut off
    return csv_text(records)


BUILDERS: dict[str, Callable[[], tuple[str, bytes, Expected]]] = {
    # .xlsx
    "xlsx_one_cell_at_XFD1048576": lambda: (
        "far.xlsx",
        xlsx([("Sheet1", '<sheetData><row r="1048576">' + _cell("XFD1048576", "x") + "</row></sheetData>")]),
        Expected(3, "超过上限 500 列", risky=True),
    ),
    "xlsx_used_range_too_many_cells": lambda: (
        "tall.xlsx",
        xlsx(
            [
                (
                    "Sheet1",
                    sheet_xml(roster_table(), extra='<row r="900000">' + _cell("Z900000", "x") + "</row>"),
                )
            ]
        ),
        Expected(3, "超过上限 10000000 个单元格", risky=True),
    ),
    "xlsx_cells_without_reference_past_column_limit": lambda: (
        "noref.xlsx",
        xlsx(
            [
                (
                    "Sheet1",
                    "<sheetData><row>"
                    + '<c t="inlineStr"><is><t>x</t></is></c>' * 600
                    + "</row></sheetData>",
                )
            ]
        ),
        Expected(3, "第 600 列", risky=True),
    ),
    "xlsx_zip_bomb_ratio": lambda: (
        "bomb.xlsx",
        _bomb(24),
        Expected(3, "像是压缩炸弹", risky=True),
    ),
    "xlsx_part_larger_than_declared": lambda: (
        "lying.xlsx",
        _declared_smaller(_bomb(1), "xl/worksheets/sheet1.xml", 1000),
        Expected(3, "比目录中登记的", risky=True),
    ),
    "xlsx_too_many_parts": lambda: (
        "parts.xlsx",
        xlsx([("Sheet1", sheet_xml(roster_table()))], {f"xl/media/p{i}.bin": b"" for i in range(1500)}),
        Expected(3, "部件过多", risky=True),
    ),
    "xlsx_doctype_entities": lambda: (
        "laughs.xlsx",
        _with_doctype(),
        Expected(3, "DOCTYPE", risky=True),
    ),
    "xlsx_cell_over_char_limit": lambda: (
        "longcell.xlsx",
        xlsx([("Sheet1", sheet_xml([*roster_table(), ["H009", "x" * 140_000]]))]),
        Expected(3, "第 7 行 乡镇(第 2 列)", risky=True),
    ),
    "xlsx_not_a_zip": lambda: ("plain.xlsx", b"this is not a zip file", Expected(3, "不是 .xlsx 文件")),
    "xlsx_truncated": lambda: (
        "cut.xlsx",
        xlsx([("Sheet1", sheet_xml(roster_table()))])[:900],
        Expected(3, "文件已损坏"),
    ),
    "xlsx_encrypted": lambda: ("secret.xlsx", _ole(True), Expected(3, "设有打开密码")),
    "xlsx_is_old_xls": lambda: ("old.xlsx", _ole(False), Expected(3, "旧版 Excel 97-2003")),
    "xlsx_roster_on_second_sheet": lambda: (
        "second.xlsx",
        xlsx([("说明", "<sheetData/>"), ("花名册", sheet_xml(roster_table()))]),
        Expected(3, "工作簿中的工作表: 「说明」、「花名册」"),
    ),
    "xlsx_first_sheet_not_the_roster": lambda: (
        "notes.xlsx",
        xlsx([("说明", sheet_xml([["填表说明"], ["见第二页"]])), ("花名册", sheet_xml(roster_table()))]),
        Expected(3, "缺少必需的列"),
    ),
    "xlsx_error_cell_na": lambda: (
        "na.xlsx",
        xlsx([("Sheet1", sheet_xml(roster_table(), raw_cells={"Z3": _error_cell("Z3", "#N/A")}))]),
        Expected(1, reasons=("CELL_ERROR", "HOUSEHOLD_REJECTED"), accepted=3),
    ),
    "xlsx_error_cell_div0_in_money": lambda: (
        "div0.xlsx",
        xlsx([("Sheet1", sheet_xml(roster_table(), raw_cells={"Y4": _error_cell("Y4", "#DIV/0!")}))]),
        Expected(1, reasons=("CELL_ERROR",), accepted=3),
    ),
    "xlsx_formula_without_value": lambda: (
        "formula.xlsx",
        xlsx(
            [("Sheet1", sheet_xml(roster_table(), raw_cells={"Z6": '<c r="Z6"><f>DATE(2023,3,1)</f></c>'}))]
        ),
        Expected(1, reasons=("FORMULA_NO_VALUE",), accepted=4),
    ),
    # .csv
    "csv_header_250000_columns": lambda: (
        "wide.csv",
        (",".join(HEADER + [f"c{i}" for i in range(250_000)]) + "\n").encode(),
        Expected(3, "超过上限 500 列", risky=True),
    ),
    "csv_first_line_over_131072_chars": lambda: (
        "longline.csv",
        ("户" * 140_000 + "\n").encode(),
        Expected(3, "超过上限 131072", risky=True),
    ),
    "csv_cell_over_131072_chars": lambda: (
        "longcell.csv",
        csv_text().replace("王五", "王" * 140_000).encode(),
        Expected(3, "第 6 行 姓名(第 12 列)", risky=True),
    ),
    "csv_two_million_lines": lambda: (
        "lines.csv",
        (csv_text() + "\n" * 2_100_000).encode(),
        Expected(3, "超过上限 2000000 行", risky=True),
    ),
    "csv_old_mac_line_ends": lambda: (
        "mac.csv",
        csv_text(newline="\r").encode(),
        Expected(0, accepted=5),
    ),
    "csv_row_missing_trailing_cells": lambda: (
        "short.csv",
        _short_row().encode(),
        Expected(1, reasons=("ROW_TOO_SHORT",), accepted=3),
    ),
    "csv_trailing_blank_cells_written_out": lambda: (
        "full.csv",
        csv_text().encode(),
        Expected(0, accepted=5),
    ),
    "csv_quote_open_at_end_of_file": lambda: (
        "eof.csv",
        (csv_text().rstrip("\n") + ',"unclosed\n').encode(),
        Expected(3, "文本第 6 行有一个半角双引号"),
    ),
    "csv_stray_quote_swallows_rows": lambda: (
        "swallow.csv",
        _swallowing_quote().encode(),
        Expected(3, "文本第 5 行有一个半角双引号"),
    ),
    # .parquet
    "parquet_list_in_name": lambda: (
        "list.parquet",
        _parquet(姓名=pa.array([["a", "b"]] * 5)),
        Expected(3, "姓名"),
    ),
    "parquet_struct_in_household_type": lambda: (
        "struct.parquet",
        _parquet(户类型=pa.array([{"x": 1}] * 5)),
        Expected(3, "户类型"),
    ),
    "parquet_int64_1e17_in_money": lambda: (
        "money.parquet",
        _parquet(往返车票金额=pa.array([0, 0, 10**17, 0, 0], pa.int64())),
        Expected(3, "第 4 行 往返车票金额的数值 100000000000000000 超出可计算的范围"),
    ),
    "parquet_bytes_not_utf8_in_name": lambda: (
        "bytes.parquet",
        _parquet(姓名=pa.array([b"\xff\xfe"] * 5, pa.binary())),
        Expected(3, "不是 UTF-8 文本"),
    ),
    "parquet_600_columns": lambda: (
        "cols.parquet",
        _parquet(**{f"c{i}": pa.array([""] * 5) for i in range(600)}),
        Expected(3, "超过上限 500 列"),
    ),
}


def _with_doctype() -> bytes:
    lol = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    data = xlsx([("Sheet1", sheet_xml([HEADER, ["&b;"]]).replace("&amp;b;", "&b;"))])
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"?><worksheet", b"?>" + lol.encode() + b"<worksheet", 1)
            z.writestr(info.filename, body)
    return buf.getvalue()


def case(name: str) -> Case:
    filename, data, expected = BUILDERS[name]()
    return Case(name, filename, data, expected)


def cases() -> list[Case]:
    return [case(n) for n in BUILDERS]
