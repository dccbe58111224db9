"""Building small rosters for tests: valid 证件号码 from a birth date, households from a few fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from click.testing import CliRunner

from subsidy_engine.cli.main import main
from subsidy_engine.roster.idcard import check_char
from subsidy_engine.roster.schema import HOUSEHOLD_COLUMNS


def make_id(born: str | dt.date, seq: int, male: bool = True, region: str = "500119") -> str:
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


def run(*args: str) -> tuple[int, str, str]:
    """The `subsidy` command as a caseworker runs it: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr
