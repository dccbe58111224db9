"""Checking an .xlsx before the spreadsheet reader opens it, in one streaming pass over the compressed bytes.

The reader (python-calamine) fills the used range of a sheet densely, from A1 to its last cell, and loads
shared strings whole: a 2 KB file with one cell at XFD1048576, or a zip that inflates to gigabytes, would take
the process down. So first: the zip's directory (parts, sizes, compression ratio, encryption), then every part
inflated while counting (a part that inflates beyond its declared size is refused), and the first sheet's XML
scanned for its used range, its error cells (#N/A …) and its formulas without a computed value, which the
reader would give as blank cells.

The sheet scan itself is `xlsx_scan.py`.
"""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from subsidy_engine.errors import FileFormatError
from subsidy_engine.limits import Limits, size_text
from subsidy_engine.roster.xlsx_scan import DOCTYPE, Mark, Refused, scan_sheet

__all__ = ["Mark", "Workbook", "check_xlsx"]

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_PARTS = 1000  # a workbook has a few dozen parts
CHUNK = 4 << 20
DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
STRICT_REL = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"


@dataclass
class Workbook:
    sheets: list[str]  # sheet names, in order
    rows: int = 0  # the first sheet's used range: last row and column (1-based), 0 when empty
    cols: int = 0
    marks: list[Mark] = field(default_factory=list)
    longest_text: int = 0  # bytes: no text of the first sheet is longer (in characters)


def check_xlsx(raw: bytes, source: str, limits: Limits) -> Workbook:
    try:
        return _check(raw, limits)
    except Refused as e:
        raise FileFormatError(f"{source}: {e}", path=source) from None


def _check(raw: bytes, limits: Limits) -> Workbook:
    if raw.startswith(OLE):
        if "EncryptionInfo".encode("utf-16-le") in raw:
            raise Refused(
                "文件设有打开密码(已加密),无法读取;请在 Excel 中取消密码"
                "(文件 → 信息 → 保护工作簿 → 用密码进行加密,清空密码)后另存为 .xlsx"
            )
        raise Refused(
            "这是旧版 Excel 97-2003 工作簿(.xls)或其他 Office 文件,不是 .xlsx;请在 Excel 中另存为 .xlsx"
        )
    if not raw.startswith(b"PK"):
        raise Refused("无法读取为 Excel 工作簿:不是 .xlsx 文件(.xlsx 是 zip 压缩包,本文件不是)")
    _check_directory_end(raw)
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error):
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(zip 压缩包不完整)") from None
    parts = {i.filename: i for i in infos}
    if len(parts) != len(infos):
        raise Refused("无法读取为 Excel 工作簿:压缩包中有同名的部件(文件已损坏或被改动过)")
    if any(i.flag_bits & 1 for i in infos):
        raise Refused("文件设有密码(压缩包已加密),无法读取;请取消密码后另存为 .xlsx")
    total = sum(i.file_size for i in infos)
    if total > limits.unzipped_bytes:
        raise Refused(
            f"解压后共 {size_text(total)},超过上限 {size_text(limits.unzipped_bytes)}"
            "(SUBSIDY_MAX_UNZIPPED_BYTES);更大的花名册请转为 Parquet 格式,用 --engine dask 计算"
        )
    for i in infos:
        if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused(f"无法读取为 Excel 工作簿:部件 {i.filename!r} 的压缩方式不受支持")
        if i.file_size > (1 << 20) and i.file_size > limits.zip_ratio * max(i.compress_size, 1):
            ratio = i.file_size // max(i.compress_size, 1)
            raise Refused(
                f"压缩比异常:部件 {i.filename!r} 由 {size_text(i.compress_size)} 解压为 "
                f"{size_text(i.file_size)}({ratio} 倍,上限 {limits.zip_ratio} 倍,SUBSIDY_MAX_ZIP_RATIO),"
                "像是压缩炸弹,不予读取"
            )
    if "xl/workbook.xml" not in parts:
        raise Refused(
            "无法读取为 Excel 工作簿:压缩包中没有 xl/workbook.xml(若是 .ods、.xlsb 等,请另存为 .xlsx)"
        )
    view = memoryview(raw)
    names, rel_ids = _sheets(b"".join(_inflate(view, parts["xl/workbook.xml"])))
    if not names:
        raise Refused("工作簿中没有工作表")
    first = _first_sheet_part(parts, view, rel_ids[0])
    book = Workbook(names)
    runs = _TextRuns()
    for name, info in parts.items():
        if name == first:
            book.rows, book.cols, book.marks = scan_sheet(partial(runs.measure, _inflate, view, info), limits)
        elif name.endswith("sharedStrings.xml"):
            for _ in runs.measure(_inflate, view, info):
                pass
        else:
            for _ in _inflate(view, info):  # inflated and counted only
                pass
    book.longest_text = runs.longest
    return book


class _TextRuns:
    """The longest run of bytes without a `<` in the sheet and the shared strings: no cell's text is longer."""

    def __init__(self) -> None:
        self.longest = 0

    def measure(
        self, inflate: Callable[[memoryview, zipfile.ZipInfo], Iterator[bytes]], *args: Any
    ) -> Iterator[bytes]:
        run = 0
        for chunk in inflate(*args):
            at = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("<"))
            if len(at):
                gaps = int(np.diff(at).max()) - 1 if len(at) > 1 else 0
                self.longest = max(self.longest, run + int(at[0]), gaps)
                run = len(chunk) - int(at[-1]) - 1
            else:
                run += len(chunk)
            self.longest = max(self.longest, run)
            yield chunk


def _check_directory_end(raw: bytes) -> None:
    """The number of parts, from the end-of-directory record, before any directory is parsed."""
    at = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))
    if at < 0 or at + 22 > len(raw):
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(找不到 zip 目录,可能下载不完整)")
    entries, cd_size = struct.unpack_from("<HI", raw, at + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or entries > MAX_PARTS:
        raise Refused(f"无法读取为 Excel 工作簿:压缩包中的部件过多(上限 {MAX_PARTS} 个)")


def _inflate(raw: memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes, chunk by chunk, refused as soon as they exceed the size the directory declares."""
    at = info.header_offset
    if raw[at : at + 4] != b"PK\x03\x04":
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(zip 部件头错误)")
    name_len, extra_len = struct.unpack_from("<HH", raw, at + 26)
    start = at + 30 + name_len + extra_len
    data = raw[start : start + info.compress_size]
    if len(data) != info.compress_size:
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(zip 部件不完整)")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise Refused("无法读取为 Excel 工作簿:文件已损坏(zip 部件大小不符)")
        for i in range(0, len(data), CHUNK):
            yield bytes(data[i : i + CHUNK])
        return
    d = zlib.decompressobj(-15)
    pos, produced = 0, 0
    while not d.eof:
        if d.unconsumed_tail:
            buf: bytes | memoryview = d.unconsumed_tail
        else:
            buf = data[pos : pos + CHUNK]
            pos += len(buf)
        try:
            out = d.decompress(buf, CHUNK)
        except zlib.error:
            raise Refused("无法读取为 Excel 工作簿:文件已损坏(压缩数据错误)") from None
        produced += len(out)
        if produced > info.file_size:
            raise Refused(
                f"部件 {info.filename!r} 解压后比目录中登记的 {size_text(info.file_size)} 更大:"
                "文件被改动过或是压缩炸弹,不予读取"
            )
        if not out and not buf:
            raise Refused("无法读取为 Excel 工作簿:文件已损坏(压缩数据不完整)")
        if out:
            yield out
    if produced != info.file_size:
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(解压后大小与目录不符)")


def _xml(data: bytes) -> ET.Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Refused(DOCTYPE)
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(XML 格式错误)") from None


def _sheets(workbook_xml: bytes) -> tuple[list[str], list[str]]:
    root = _xml(workbook_xml)
    names: list[str] = []
    ids: list[str] = []
    for el in root.iter():
        if el.tag.rpartition("}")[2] == "sheet":
            names.append(el.get("name", ""))
            ids.append(el.get(DOC_REL) or el.get(STRICT_REL) or "")
    return names, ids


def _first_sheet_part(parts: dict[str, zipfile.ZipInfo], raw: memoryview, rel_id: str) -> str:
    """The part the reader opens as the first sheet: its relationship's target, under xl/ unless absolute."""
    rels = parts.get("xl/_rels/workbook.xml.rels")
    if rels is None:
        raise Refused("无法读取为 Excel 工作簿:文件已损坏(缺少 xl/_rels/workbook.xml.rels)")
    root = _xml(b"".join(_inflate(raw, rels)))
    for el in root.iter():
        if el.tag.rpartition("}")[2] == "Relationship" and el.get("Id") == rel_id:
            target = el.get("Target", "")
            path = target[1:] if target.startswith("/") else target
            path = path if path.startswith("xl/") else "xl/" + path
            if path in parts and path.endswith(".xml"):
                return path
            break
    raise Refused("无法读取为 Excel 工作簿:找不到第一个工作表的内容(若是 .xlsb,请另存为 .xlsx)")
