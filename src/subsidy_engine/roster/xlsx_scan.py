"""Scanning the first sheet's XML, streamed, before the spreadsheet reader fills its used range densely: the
last row and column any cell takes, the error cells (#N/A …) and the formulas saved without a computed value.

Cell references are read with regular expressions when every cell tag has the usual form (`<c r="B7" …>`,
`r` once, no quote or angle bracket in a value), and with expat otherwise (a prefix, no reference, odd
quoting), which places a cell without a reference where python-calamine does. Both only count: one pass,
one chunk in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.parsers import expat

from subsidy_engine.limits import Limits
from subsidy_engine.roster.reasons import Reason

MAX_MARKS = 100_000  # error cells + uncomputed formulas kept for the rejects
DOCTYPE = "无法读取为 Excel 工作簿:XML 中有 DOCTYPE 或实体声明(Excel 不会写出,不予读取)"


class Refused(Exception):
    """Why a workbook is not read (the caller adds the file name)."""


@dataclass
class Mark:
    row: int  # 1-based, as the sheet shows
    col: int  # 0-based
    code: str  # CELL_ERROR | FORMULA_NO_VALUE
    text: str  # "#N/A", or the formula


_ANY_CELL = re.compile(rb"<c[\s/>]")
_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.\-]*:c[\s/>]")
# the usual cell tag, whole: `r` first and only once, every other value free of quotes and angle brackets
_TAG = rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"((?: (?!r=)[A-Za-z_][\w:.\-]*="[^"<>]*")*) ?(/?)>'
_CELL = re.compile(_TAG.replace(b"((?:", b"(?:(?:").replace(b" ?(/?)>", b" ?/?>"))  # (column, row) only
_CELL_PARTS = re.compile(_TAG)  # (column, row, attributes, "/" when self-closed)
_ERROR_T = re.compile(rb"""\st\s*=\s*["']e["']""")
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?f[\s/>]")
_F_TEXT = re.compile(rb"<f(?:\s[^>]*)?>(.*?)</f>", re.S)
_V_TEXT = re.compile(rb"<v(?:\s[^>]*)?>(.*?)</v>|<v(?:\s[^>]*)?/>", re.S)
_TAIL = 64 << 20  # a cell this long (in XML): the expat scan


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def scan_sheet(stream: Callable[[], Iterator[bytes]], limits: Limits) -> tuple[int, int, list[Mark]]:
    fast = _FastScan()
    if all(fast.feed(chunk) for chunk in stream()) and fast.finish():
        rows, cols, marks = fast.rows, fast.cols, fast.marks
    else:  # a cell tag of another form somewhere: expat, from the start
        rows, cols, marks = _expat_scan(stream(), 4 * limits.cells + limits.rows)
    if len(marks) > MAX_MARKS:
        raise Refused(
            f"第一个工作表中有超过 {MAX_MARKS} 个错误值或没有计算结果的公式;请在 Excel 中重新计算、修正后另存"
        )
    if cols > limits.columns:
        raise Refused(
            f"第一个工作表用到了第 {cols} 列,超过上限 {limits.columns} 列(SUBSIDY_MAX_COLUMNS);"
            "请删除多余的列后另存"
        )
    if rows > limits.rows:
        raise Refused(
            f"第一个工作表用到了第 {rows} 行,超过上限 {limits.rows} 行(SUBSIDY_MAX_ROWS);"
            "更大的花名册请转为 Parquet 格式,用 --engine dask 计算"
        )
    if rows * cols > limits.cells:
        raise Refused(
            f"第一个工作表的使用范围是 {rows} 行 × {cols} 列,超过上限 {limits.cells} 个单元格"
            "(SUBSIDY_MAX_CELLS);请删除表格下方或右侧多余的内容后另存"
        )
    return rows, cols, marks


class _FastScan:
    """Cell references by regular expressions, on pieces of the XML cut after a `</c>` (so that no tag is
    cut); gives up (False) at the first cell tag of another form, for `_expat_scan` to do it properly."""

    def __init__(self) -> None:
        self.pending = b""
        self.rows = 0
        self.cols = 0
        self.marks: list[Mark] = []

    def feed(self, chunk: bytes) -> bool:
        """Takes the next chunk; the part up to the last complete tag is scanned, except a cell whose element
        is still open (its content comes with the next chunk)."""
        buf = self.pending + chunk
        cut = buf.rfind(b">") + 1
        start = buf.rfind(b"<c ", 0, cut)
        if (
            start > buf.rfind(b"</c>", 0, cut)
            and buf[buf.find(b">", start) - 1 : buf.find(b">", start)] != b"/"
        ):
            cut = start
        self.pending = buf[cut:]
        return len(self.pending) <= _TAIL and self._part(buf[:cut])

    def finish(self) -> bool:
        return self._part(self.pending)

    def _part(self, part: bytes) -> bool:
        if b"<!DOCTYPE" in part or b"<!ENTITY" in part:
            raise Refused(DOCTYPE)
        refs = _CELL.findall(part)
        if len(refs) != len(_ANY_CELL.findall(part)) or (b":c" in part and _PREFIXED_CELL.search(part)):
            return False  # a cell tag of another form
        if refs:
            self.rows = max(self.rows, max(map(int, (r[1] for r in refs))))
            self.cols = max(self.cols, max(col_number(c.decode()) for c in {r[0] for r in refs}))
        errors = (b'"e"' in part or b"'e'" in part) and _ERROR_T.search(part)
        if errors or ((b"<f" in part or b":f" in part) and _FORMULA.search(part)):
            return self._marks(part)
        return True

    def _marks(self, part: bytes) -> bool:
        seen: set[int] = set()
        hits = [(m.start(), True) for m in _ERROR_T.finditer(part)]
        hits += [(m.start(), False) for m in _FORMULA.finditer(part)]
        for at, is_attr in sorted(hits):
            start = part.rfind(b'<c r="', 0, at)
            tag = _CELL_PARTS.match(part, start) if start >= 0 else None
            if tag is None:
                return False
            end = tag.end() if tag.group(4) else part.find(b"</c>", tag.end())
            inside = at < tag.end() if is_attr else tag.end() <= at < end
            if end < 0 or not inside:  # ` t="e"` in a text, a `>` in an attribute…: expat
                return False
            if start in seen:
                continue
            seen.add(start)
            content = part[tag.end() : end]
            value = _V_TEXT.search(content)
            row, col = int(tag.group(2)), col_number(tag.group(1).decode()) - 1
            if _ERROR_T.search(tag.group(3)):
                text = _text(value.group(1)) if value and value.group(1) else "#错误"
                self.marks.append(Mark(row, col, Reason.CELL_ERROR, text))
            elif value is None and _FORMULA.search(content):
                formula = _F_TEXT.search(content)
                self.marks.append(
                    Mark(row, col, Reason.FORMULA_NO_VALUE, _text(formula.group(1)) if formula else "")
                )
        return True


def _text(b: bytes) -> str:
    text = _unescape(b.decode("utf-8", "replace"))
    return text if len(text) <= 100 else text[:100] + "…"


def _expat_scan(stream: Iterator[bytes], most_elements: int) -> tuple[int, int, list[Mark]]:
    """The same as `_FastScan`, element by element, placing a cell without a reference where the spreadsheet
    reader does: after the previous cell of its row, on the row the `<row>` element gives."""
    state = {"row": -1, "col": 0, "max_row": 0, "max_col": 0, "elements": 0}
    cell: dict[str, object] = {}
    marks: list[Mark] = []
    capture: list[str] = []

    def local(name: str) -> str:
        return name.rpartition(":")[2]

    def start(name: str, attrs: dict[str, str]) -> None:
        state["elements"] += 1
        if state["elements"] > most_elements:
            raise Refused(f"第一个工作表的 XML 元素超过 {most_elements} 个,不像是花名册;请另存为新的 .xlsx")
        tag = local(name)
        if tag == "row":
            r = attrs.get("r", "")
            state["row"] = int(r) - 1 if r.isdigit() and r.isascii() else state["row"] + 1
            state["col"] = 0
        elif tag == "c":
            m = re.fullmatch(r"([A-Za-z]+)([0-9]+)", attrs.get("r", ""))
            row, col = (
                (int(m.group(2)) - 1, col_number(m.group(1)) - 1) if m else (state["row"], state["col"])
            )
            state["col"] = col + 1
            state["max_row"] = max(state["max_row"], row + 1)
            state["max_col"] = max(state["max_col"], col + 1)
            cell.clear()
            cell.update(row=row + 1, col=col, error=attrs.get("t") == "e", f=None, v=None)
        elif tag in ("f", "v") and cell:
            cell[tag] = ""
            capture.clear()
            capture.append(tag)

    def end(name: str) -> None:
        tag = local(name)
        if tag in ("f", "v") and cell and capture:
            capture.clear()
        elif tag == "c" and cell:
            row, col = int(str(cell["row"])), int(str(cell["col"]))
            if cell["error"]:
                marks.append(Mark(row, col, Reason.CELL_ERROR, str(cell["v"] or "#错误")))
            elif cell["f"] is not None and cell["v"] is None:
                marks.append(Mark(row, col, Reason.FORMULA_NO_VALUE, str(cell["f"])))
            cell.clear()

    def text(data: str) -> None:
        if capture and len(str(cell[capture[0]])) < 100:
            cell[capture[0]] = str(cell[capture[0]]) + data[:100]

    def doctype(*_: object) -> None:
        raise Refused(DOCTYPE)

    p = expat.ParserCreate()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = text
    p.StartDoctypeDeclHandler = doctype
    try:
        for chunk in stream:
            p.Parse(chunk, False)
        p.Parse(b"", True)
    except expat.ExpatError:
        raise Refused("无法读取为 Excel 工作簿:第一个工作表的 XML 格式错误(文件已损坏)") from None
    return state["max_row"], state["max_col"], marks


def _unescape(text: str) -> str:
    """XML's five entities, as xml.sax.saxutils.unescape with &quot; and &apos; (which would import urllib,
    http and email for one function): &amp; last, so that "&amp;lt;" stays "&lt;"."""
    if "&" not in text:
        return text
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")
