"""Rule test cases as data (`tests/rules/*.yaml`): reading the cases and building each case's roster.

A case file is a list of cases, each with a `name`, a `period`, `households` (household fields and `members`:
姓名, 与户主关系, `born`, `sex`, `disability` = category and grade digits, other roster fields), optionally the
`programs` it checks, and the expected payment lines `MONTH PROGRAM RULE NAME AMOUNT`. The 证件号码 of each
member is made from `born` and `sex`, with a valid checksum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from subsidy_engine.errors import RulebookError
from subsidy_engine.roster.idcard import check_char
from subsidy_engine.roster.schema import HOUSEHOLD_COLUMNS


@dataclass(frozen=True)
class RuleCase:
    file: Path
    name: str
    period: str
    households: list[dict[str, Any]]
    programs: tuple[str, ...] | None  # the programs whose lines the case checks (None: all)
    expect: tuple[str, ...]


def make_id(born: str | dt.date, seq: int, male: bool = True, region: str = "500119") -> str:
    """A valid 18-character 证件号码 for a birth date (seq makes it unique; odd 17th digit = male)."""
    d = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born))
    s = seq * 2 + (1 if male else 0)
    f17 = f"{region}{d:%Y%m%d}{s % 1000:03d}"
    return f17 + check_char(f17)


def household_rows(households: list[dict[str, Any]], start_seq: int = 1) -> list[dict[str, Any]]:
    """Expand households ({household fields..., members: [{姓名, 与户主关系, born, sex, disability, ...}]}) to
    one roster row per member, household fields repeated, 证件号码 generated from `born`/`sex`."""
    rows: list[dict[str, Any]] = []
    seq = start_seq
    for i, h in enumerate(households, start=1):
        hfields = {k: v for k, v in h.items() if k != "members"}
        hfields.setdefault("户编号", f"H{i:03d}")
        hfields.setdefault("乡镇", "兴隆镇")
        hfields.setdefault("行政村", "金花村")
        hfields.setdefault("户类型", "一般农户")
        for m in h["members"]:
            m = dict(m)
            born = m.pop("born", "1980-01-01")
            sex = m.pop("sex", "男")
            disability = m.pop("disability", None)
            row: dict[str, Any] = {c.name: hfields.get(c.name, "") for c in HOUSEHOLD_COLUMNS}
            row["证件号码"] = m.pop("证件号码", None) or make_id(str(born), seq, male=(sex == "男"))
            seq += 1
            if disability is not None:
                row["残疾证号"] = row["证件号码"] + str(disability)
            row.update({k: ("是" if v is True else "否" if v is False else v) for k, v in m.items()})
            rows.append(row)
    return rows


def read_cases(path: Path) -> list[RuleCase]:
    """The cases of one file; a case without a name, a period or households is refused naming the file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise RulebookError("用例文件应是用例的列表", file=str(path))
    out = []
    for i, case in enumerate(data, start=1):
        missing = [k for k in ("name", "period", "households") if not isinstance(case, dict) or k not in case]
        if missing:
            raise RulebookError(f"第 {i} 个用例缺少 {'、'.join(missing)}", file=str(path))
        programs = case.get("programs")
        out.append(
            RuleCase(
                path,
                str(case["name"]),
                str(case["period"]),
                case["households"],
                tuple(programs) if programs is not None else None,
                tuple(" ".join(str(line).split()) for line in case.get("expect") or []),
            )
        )
    return out


def read_case_folder(folder: Path) -> list[RuleCase]:
    """Every case of every `*.yaml` file of a folder, files in name order."""
    if not folder.is_dir():
        raise RulebookError(f"用例目录 {folder} 不存在")
    return [c for path in sorted(folder.glob("*.yaml")) for c in read_cases(path)]
