"""A rulebook's parameters checked as they load: the key field, the references, the table keys, the amounts.

An amount is non-negative, in whole fen (at most two decimals) and under the ceiling of limits.py; a keyed
parameter (a decision table) is keyed by an enumerable field and holds only that field's values.
"""

from __future__ import annotations

from typing import Any

from subsidy_engine.errors import RulebookError
from subsidy_engine.money import is_fen
from subsidy_engine.rulebook import yamlio
from subsidy_engine.rulebook.files import Parameter
from subsidy_engine.rulebook.limits import YUAN_CEILING
from subsidy_engine.rulebook.vocabulary import FIELDS


def check_param(name: str, p: Parameter, refs: set[str], file: str, data: Any) -> None:
    line = yamlio.line_of(data, ("parameters", name))
    if p.key is not None and (p.key not in FIELDS or FIELDS[p.key].kind != "enum"):
        raise RulebookError(f"参数 {name} 的 key {p.key!r} 应是取值可枚举的字段", file=file, line=line)
    for d, entry in p.values.items():
        if entry is None:
            continue
        line = yamlio.line_of(data, ("parameters", name, "values", d))
        if entry.reference not in refs:
            raise RulebookError(
                f"参数 {name} 在 {d} 的 reference {entry.reference!r} 不在本文件 references 里",
                file=file,
                line=line,
            )
        values = entry.value.values() if isinstance(entry.value, dict) else [entry.value]
        if isinstance(entry.value, dict) != (p.key is not None):
            raise RulebookError(
                f"参数 {name} 在 {d} 的取值应为" + ("按 key 的表" if p.key else "单个金额"),
                file=file,
                line=line,
            )
        if isinstance(entry.value, dict):
            unknown = set(entry.value) - set(FIELDS[p.key].values)  # type: ignore[index]
            if unknown:
                raise RulebookError(
                    f"参数 {name} 在 {d} 的表有未知的键 {sorted(unknown)}(可选: "
                    f"{' / '.join(FIELDS[str(p.key)].values)})",
                    file=file,
                    line=line,
                )  # type: ignore[index]
        for v in values:
            if not v.is_finite() or v > YUAN_CEILING:
                raise RulebookError(
                    f"参数 {name} 在 {d} 的金额 {v} 超出上限 {YUAN_CEILING} 元(1 亿元)", file=file, line=line
                )
            if v < 0 or not is_fen(v):
                raise RulebookError(
                    f"参数 {name} 在 {d} 的金额 {v} 应为非负、最多两位小数", file=file, line=line
                )
