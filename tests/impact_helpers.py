"""For the impact tests: a reform written as a rulebook folder (the YAML edited by hand, independently of
impact/reform.py), rosters written to CSV, and the CSV outputs read back with exact amounts."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from subsidy_engine.roster.schema import COLUMNS
from subsidy_engine.rulebook.load import DEFAULT_RULES


def write_edited_rulebook(
    dst: Path, name: str, key: str | None, value: str, start: dt.date, period_end: dt.date
) -> Path:
    """A copy of the bundled rulebook whose parameter `name` (or its `key`) is `value` from `start` to
    `period_end`; from the day after, the parameter's own values again."""
    shutil.copytree(DEFAULT_RULES, dst)
    amount: Any = int(Decimal(value)) if Decimal(value) == Decimal(value).to_integral() else float(value)
    for path in sorted(dst.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        params = data.get("parameters") or {}
        if name not in params:
            continue
        values: dict[dt.date, Any] = params[name]["values"]

        def in_force(d: dt.date, values: dict[dt.date, Any] = values) -> Any:
            return copy.deepcopy(values[max(x for x in values if x <= d)])

        def with_value(entry: Any) -> Any:
            if key is None:
                entry["value"] = amount
            else:
                entry["value"][key] = amount
            return entry

        after = period_end + dt.timedelta(days=1)
        new = {d: v for d, v in values.items() if d < start}
        new[start] = with_value(in_force(start))
        for d in sorted(values):
            if start < d <= period_end and key is not None:  # a table's other keys keep changing
                new[d] = with_value(in_force(d))
        new[after] = in_force(after)
        new.update({d: v for d, v in values.items() if d > after})
        params[name]["values"] = dict(sorted(new.items()))
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return dst
    raise KeyError(name)


def write_roster(rows: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([c.name for c in COLUMNS])
        for r in rows:
            w.writerow([r.get(c.name, "") for c in COLUMNS])
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def fen(text: str) -> int:
    return int(Decimal(text) * 100)


def payments_by(path: Path, *keys: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """(lines, fen) of a payments.csv per value of `keys`."""
    out: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for r in read_csv(path):
        acc = out[tuple(r[k] for k in keys)]
        acc[0] += 1
        acc[1] += fen(r["金额"])
    return {k: (v[0], v[1]) for k, v in out.items()}
