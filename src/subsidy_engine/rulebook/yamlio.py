"""YAML for rule files: safe loading that refuses duplicate keys and remembers each key's line."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from subsidy_engine.errors import RulebookError


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that knows the line (1-based) of each of its keys."""

    lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        if key in out:
            raise RulebookError(
                f"键 {key!r} 重复(上一次在第 {out.lines[key]} 行);决策表和参数取值不能重叠",
                file=loader.name,
                line=key_node.start_mark.line + 1,
            )
        out[key] = loader.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    """Numbers with a decimal point become exact Decimals from their text, never floats."""
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[no-untyped-call]
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RulebookError(
            f"不是有效的数字: {text!r}", file=loader.name, line=node.start_mark.line + 1
        ) from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)  # type: ignore[arg-type]


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    loader = _Loader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise RulebookError(
            f"YAML 语法错误: {getattr(e, 'problem', e)}", file=str(path), line=mark.line + 1 if mark else None
        ) from None
    finally:
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
