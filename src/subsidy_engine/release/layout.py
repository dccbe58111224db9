"""The bank file's layout, declared in one YAML file: columns, their order, header and control lines, encoding.

The default (`layouts/default.yaml`, shipped with the package) is the 一卡通 batch most banks take; an office
whose bank wants other column names or lines copies it and passes `--layout FILE`. Everything is checked when
the file is loaded (unknown keys, values and placeholders are refused naming the key), so a layout that loads
writes a file.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subsidy_engine.errors import InputError, RulebookError
from subsidy_engine.rulebook import yamlio

DEFAULT_LAYOUT = Path(__file__).parent / "layouts" / "default.yaml"

# what a detail column can hold (the bank line's fields)
FIELDS = (
    "seq",
    "name",
    "id_number",
    "account",
    "bank",
    "amount",
    "program",
    "program_title",
    "memo",
    "month",
    "household_id",
    "town",
    "village",
)
REQUIRED_FIELDS = ("seq", "name", "account", "amount")  # the return is matched on these
LINE_PLACEHOLDERS = ("batch", "count", "total", "period")
MEMO_PLACEHOLDERS = ("year", "month", "program_title", "program")
ENCODINGS = {"utf-8-bom": "utf-8-sig", "utf-8": "utf-8", "gb18030": "gb18030"}
LINE_ENDS = {"crlf": "\r\n", "lf": "\n"}
RETURN_KEYS = ("seq", "account", "amount", "status", "reason")
TOP_KEYS = {"name", "encoding", "line_end", "sheet", "memo", "before", "columns", "after", "return"}


class LayoutError(InputError):
    """A layout file that cannot be used: named with the key that is wrong."""


@dataclass(frozen=True)
class Column:
    title: str
    value: str | None  # a field of FIELDS, or None for fixed text
    text: str = ""


@dataclass(frozen=True)
class ReturnColumns:
    seq: str
    account: str
    amount: str
    status: str
    reason: str
    paid: tuple[str, ...]
    failed: tuple[str, ...]
    skip_rows_starting: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    name: str
    source: str
    encoding: str  # a layout encoding name (ENCODINGS)
    line_end: str  # the characters
    sheet: str
    memo: str
    before: tuple[tuple[str, ...], ...]
    columns: tuple[Column, ...]
    after: tuple[tuple[str, ...], ...]
    returns: ReturnColumns

    def codec(self, override: str | None = None) -> str:
        return ENCODINGS[override or self.encoding]


def _placeholders(template: str, allowed: tuple[str, ...], where: str) -> None:
    try:
        names = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise LayoutError(f"{where}: {template!r} 不是有效的模板({e});花括号请写成 {{{{ 和 }}}}") from None
    for name in names:
        if name not in allowed:
            raise LayoutError(f"{where}: 未知的占位符 {{{name}}}(可用: {'、'.join(allowed)})")


def _text(data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise LayoutError(f"{where}: {key} 应为非空文字")
    return value


def _lines(data: dict[str, Any], key: str, where: str) -> tuple[tuple[str, ...], ...]:
    raw = data.get(key) or []
    if not isinstance(raw, list) or not all(isinstance(r, list) for r in raw):
        raise LayoutError(f"{where}: {key} 应为行的列表,每行是单元格的列表")
    out = []
    for i, row in enumerate(raw, start=1):
        cells = tuple("" if c is None else str(c) for c in row)
        for c in cells:
            _placeholders(c, LINE_PLACEHOLDERS, f"{where}: {key} 第 {i} 行")
        out.append(cells)
    return tuple(out)


def _columns(data: dict[str, Any], where: str) -> tuple[Column, ...]:
    raw = data.get("columns")
    if not isinstance(raw, list) or not raw:
        raise LayoutError(f"{where}: columns 应为明细列的列表")
    cols = []
    for i, c in enumerate(raw, start=1):
        here = f"{where}: columns 第 {i} 列"
        if not isinstance(c, dict) or set(c) - {"title", "value", "text"} or "title" not in c:
            raise LayoutError(f"{here} 应为 {{title: 列名, value: 取值}} 或 {{title: 列名, text: 固定文字}}")
        if ("value" in c) == ("text" in c):
            raise LayoutError(f"{here}: value 与 text 二选一")
        if "value" in c and c["value"] not in FIELDS:
            raise LayoutError(f"{here}: 未知的取值 {c['value']!r}(可用: {'、'.join(FIELDS)})")
        cols.append(Column(str(c["title"]), c.get("value"), str(c.get("text", ""))))
    have = {c.value for c in cols}
    missing = [f for f in REQUIRED_FIELDS if f not in have]
    if missing:
        raise LayoutError(f"{where}: columns 缺少 {'、'.join(missing)}(核对银行回盘要用)")
    return tuple(cols)


def _returns(data: dict[str, Any], where: str) -> ReturnColumns:
    raw = data.get("return")
    if not isinstance(raw, dict):
        raise LayoutError(f"{where}: return 应为回盘文件各列的列名")
    unknown = set(raw) - {*RETURN_KEYS, "paid", "failed", "skip_rows_starting"}
    if unknown:
        raise LayoutError(f"{where}: return 中有未知的键 {'、'.join(sorted(map(str, unknown)))}")
    names = {k: _text(raw, k, f"{where}: return") for k in RETURN_KEYS}

    def words(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise LayoutError(f"{where}: return.{key} 应为文字的列表")
        return tuple(v.strip() for v in value)

    paid, failed = words("paid"), words("failed")
    if not paid or not failed or set(paid) & set(failed):
        raise LayoutError(f"{where}: return.paid 与 return.failed 都要有、且不能有相同的状态文字")
    return ReturnColumns(**names, paid=paid, failed=failed, skip_rows_starting=words("skip_rows_starting"))


def load_layout(path: str | Path | None = None) -> Layout:
    """The layout of `path` (the shipped default when None), checked whole."""
    p = Path(path) if path is not None else DEFAULT_LAYOUT
    where = str(p)
    if not p.is_file():
        raise LayoutError(f"{where}: 格式文件不存在")
    try:
        data = yamlio.load(p)  # bounded, no aliases, duplicate keys refused
    except RulebookError as e:
        raise LayoutError(str(e).replace("规则文件", "格式文件")) from None
    if not isinstance(data, dict):
        raise LayoutError(f"{where}: 格式文件应是一个映射(键: 值)")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise LayoutError(
            f"{where}: 未知的键 {'、'.join(sorted(map(str, unknown)))}(可用: {'、'.join(sorted(TOP_KEYS))})"
        )
    encoding = data.get("encoding", "utf-8-bom")
    if encoding not in ENCODINGS:
        raise LayoutError(f"{where}: encoding {encoding!r} 不支持(可用: {'、'.join(ENCODINGS)})")
    line_end = data.get("line_end", "crlf")
    if line_end not in LINE_ENDS:
        raise LayoutError(f"{where}: line_end {line_end!r} 不支持(可用: crlf、lf)")
    memo = _text(data, "memo", where, "{year}年{month}月{program_title}")
    _placeholders(memo, MEMO_PLACEHOLDERS, f"{where}: memo")
    sheet = _text(data, "sheet", where, "代发明细")
    if len(sheet) > 31 or any(ch in sheet for ch in "[]:*?/\\"):
        raise LayoutError(f"{where}: sheet {sheet!r} 不能作工作表名(最多 31 个字符,不含 []:*?/\\)")
    return Layout(
        name=_text(data, "name", where, p.stem),
        source=where,
        encoding=encoding,
        line_end=LINE_ENDS[line_end],
        sheet=sheet,
        memo=memo,
        before=_lines(data, "before", where),
        columns=_columns(data, where),
        after=_lines(data, "after", where),
        returns=_returns(data, where),
    )
