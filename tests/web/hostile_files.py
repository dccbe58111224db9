"""A hostile upload the hostile-input corpus (tests/hostile/corpus.py) does not build: the 证件号码 column as
Excel saves it once it became numbers (`5.00119E+17` on every row), the commonest real mistake."""

from __future__ import annotations

import csv
from pathlib import Path

from helpers import household_rows


def mangled_ids_csv(path: Path, households: int = 60) -> Path:
    """`households` one-person households of 兴隆镇 whose 证件号码 all read `5.00119E+17`."""
    rows = household_rows(
        [
            {
                "乡镇": "兴隆镇",
                "行政村": "金花村",
                "members": [{"姓名": f"甲{i}", "与户主关系": "户主", "born": "1950-01-01", "特困人员": True}],
            }
            for i in range(households)
        ]
    )
    for r in rows:
        r["证件号码"] = "5.00119E+17"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path
