"""YAML for rule files: safe, bounded loading (size, UTF-8, nesting depth, no aliases, sane numbers and dates)
that refuses duplicate keys and remembers each key's line; anything wrong is a RulebookError with file:line."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook.limits import MAX_FILE_BYTES, MAX_NUMBER_CHARS, MAX_YAML_DEPTH, UNPRINTABLE


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that knows the line (1-based) of each of its keys."""

    lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise RulebookError(
                "规则文件里不能用 YAML 锚点和别名(&name / *name):请把内容直接写出",
                file=self.name,
                line=event.start_mark.line + 1,
            )
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise RulebookError(
                    f"列表和映射嵌套超过 {MAX_YAML_DEPTH} 层,不是规则文件的结构",
                    file=self.name,
                    line=event.start_mark.line + 1,
                )
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            self.depth -= 1

    def construct_scalar(self, node: Any) -> Any:
        """Text written with escapes (`"\\x1b"`, `"\\ud800"`) may not smuggle in what the file itself may not hold."""
        value = super().construct_scalar(node)  # type: ignore[no-untyped-call]
        bad = UNPRINTABLE.search(value) if isinstance(value, str) else None
        if bad:
            raise RulebookError(
                f"文字里有不允许的字符 U+{ord(bad.group()):04X}(控制字符或不成对的代理字符)",
                file=self.name,
                line=node.start_mark.line + 1,
            )
        return value

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Any value the YAML library cannot build (an explicit `!!int x`, …) is refused with its line."""
        try:
            return super().construct_object(node, deep)  # type: ignore[no-untyped-call]
        except (RulebookError, yaml.YAMLError):
            raise
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as e:
            text = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise RulebookError(
                f"无法解读的值 {str(text)[:60]!r}({type(e).__name__}: {e})",
                file=self.name,
                line=node.start_mark.line + 1,
            ) from None


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise RulebookError(
                "键只能是文字、数字或日期,不能是列表或映射",
                file=loader.name,
                line=key_node.start_mark.line + 1,
            ) from None
        if key in out:
            raise RulebookError(
                f"键 {key!r} 重复(上一次在第 {out.lines[key]} 行);决策表和参数取值不能重叠",
                file=loader.name,
                line=key_node.start_mark.line + 1,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _number_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    text = str(loader.construct_scalar(node))  # type: ignore[no-untyped-call]
    if len(text) > MAX_NUMBER_CHARS:
        raise RulebookError(
            f"数字写得过长({len(text)} 个字符,最多 {MAX_NUMBER_CHARS} 个)",
            file=loader.name,
            line=node.start_mark.line + 1,
        )
    return text


def _construct_decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    """Numbers with a decimal point become exact Decimals from their text, never floats; no inf/nan."""
    text = _number_text(loader, node).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise RulebookError(f"不是有效的数字: {text!r}", file=loader.name, line=node.start_mark.line + 1)
    return value


_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    """A whole number in plain decimal; YAML 1.1 would read `017` as octal 15, `0b11` as 3, `1:30` as 90."""
    text = _number_text(loader, node).replace("_", "")
    if not _PLAIN_INT.fullmatch(text):
        raise RulebookError(
            f"数字 {text!r} 请用十进制直接写出(不以 0 开头,不用 0x、0b 或 1:30 这样的写法)",
            file=loader.name,
            line=node.start_mark.line + 1,
        )
    return int(text)


_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> dt.date:
    """A date that is not in the calendar (`2023-02-30`) is refused with its line, in words."""
    text = str(node.value)
    try:
        return loader.construct_yaml_timestamp(node)  # type: ignore[no-untyped-call,no-any-return]
    except (ValueError, AttributeError, OverflowError):
        raise RulebookError(
            f"{text!r} 不是有效的日期:{date_problem(text)}", file=loader.name, line=node.start_mark.line + 1
        ) from None


def date_problem(text: str) -> str:
    """Why a YYYY-MM-DD text is not a calendar date, in words ("" if it is one)."""
    m = _DATE.match(text.strip())
    if not m:
        return "日期应写成 YYYY-MM-DD"
    y, mo, d = (int(x) for x in m.groups())
    if not 1 <= mo <= 12:
        return f"没有 {mo} 月"
    try:
        dt.date(y, mo, d)
    except ValueError:
        return f"{y} 年 {mo} 月没有 {d} 日"
    return ""


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)  # type: ignore[arg-type]


def read_text(path: Path) -> str:
    """A rule file's text: at most MAX_FILE_BYTES, UTF-8 (a GBK/GB18030 or UTF-16 file is refused, saying so)."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise RulebookError(f"无法读取规则文件: {e.strerror or e}", file=str(path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise RulebookError(f"规则文件超过 {MAX_FILE_BYTES // (1 << 20)} MiB,不像规则文件", file=str(path))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RulebookError(
            "规则文件是 UTF-16 编码;规则文件须为 UTF-8,请另存为 UTF-8", file=str(path), line=1
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
            guess = ",看起来是 GBK/GB18030 编码"
        except UnicodeDecodeError:
            guess = ""
        raise RulebookError(
            f"规则文件不是 UTF-8 编码(字节 0x{data[e.start]:02x} 无法按 UTF-8 解读{guess});"
            "规则文件须为 UTF-8,请用编辑器另存为 UTF-8",
            file=str(path),
            line=line,
        ) from None


def load(path: Path, text: str | None = None) -> Any:
    """The YAML data of a rule file (its text when already read)."""
    text = read_text(path) if text is None else text
    loader = None
    try:
        loader = _Loader(text)
        loader.name = str(path)
        return loader.get_single_data()
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1
        raise RulebookError(
            f"规则文件含不允许的控制字符 U+{e.character:04X}" if isinstance(e.character, int) else str(e),
            file=str(path),
            line=line,
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise RulebookError(
            f"YAML 语法错误: {getattr(e, 'problem', e)}", file=str(path), line=mark.line + 1 if mark else None
        ) from None
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[no-untyped-call]


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest key along loc that the data knows."""
    line = None
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineDict):
            # pydantic reports date keys as text
            match = next((k for k in node if str(k) == str(part)), None)
            if match is None:
                break
            line = node.lines.get(match, line)
            node = node[match]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
    return line
