"""A seeded mutator over the seed roster's cells: whatever a clumsy or hostile file holds, `subsidy evaluate`
ends with a documented exit code and no traceback, every row read is accepted or rejected, and the output
folder is whole (every file the manifest lists, with its hash) or absent.

A sample of the seed's households (those that use each optional column, and a spread of the rest) keeps each
run small; CASES mutated files, about a third of a second each. A failing case is kept in the test's tmp folder
and named in the assertion (seed and case number), so it can be replayed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from subsidy_engine.cli.main import main
from subsidy_engine.roster.cells import TRIM

SEED_ROSTER = Path(__file__).parents[2] / "fixtures" / "xinglong-2023" / "roster.xlsx"
SEED = 20231231
CASES = 48
XLSX_EVERY = 6  # one case in six is written as a spreadsheet with typed cells
EXIT_CODES = {0, 3}  # done (rows may be rejected), or the file refused whole: nothing else for a roster

TEXTS: list[str] = [
    "",
    " ",
    "\u3000\t",
    "\x00",
    "是\x00",
    "\x07\x1b[31m",
    "a\r\nb",
    "\r",
    '"',
    '"",""',
    "\ufeff",
    "x" * 100_000,
    "1" * 5000,
    "１２",
    "３００．５０",
    "２０２３－０６－０１",
    "٣٠٠",
    "𝟑",
    "³",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "-0",
    "0.001",
    "92233720368547758.07",
    "9" * 20,
    "2023-02-30",
    "0000-00-00",
    "9999-12-31",
    "2023-13",
    "5.00119E+17",
    "500119 19800202 0073",
    '=HYPERLINK("http://x","y")',
    "中文",
    "é",
    "户主",
    "是",
    "否",
    "市外",
]
TYPED: list[object] = [
    1e308,
    -1e308,
    float("nan"),
    0.1 + 0.2,
    5.00119198002020e17,
    -1,
    2**62,
    True,
    dt.datetime(1900, 1, 1),
    dt.datetime(9999, 12, 31),
    dt.date(2023, 6, 1),
]


@pytest.fixture(scope="module")
def seed_sample() -> tuple[list[str], list[list[str]]]:
    """(header, rows as text) of whole households: the first two using each optional column, and every 700th."""
    from python_calamine import CalamineWorkbook

    data = CalamineWorkbook.from_path(str(SEED_ROSTER)).get_sheet_by_index(0).to_python()
    header = [str(h) for h in data[0]]
    households: dict[str, list[list[str]]] = {}
    for row in data[1:]:
        households.setdefault(str(row[0]), []).append(["" if c is None else str(c) for c in row])
    keys = list(households)
    chosen = set(keys[::700])
    for col in range(len(header)):
        users = [k for k in keys if any(r[col] for r in households[k])]
        chosen.update(users[:2])
    rows = [r for k in keys if k in chosen for r in households[k]]
    return header, rows


def _mutate(rng: random.Random, header: list[str], rows: list[list[Any]], typed: bool) -> list[list[Any]]:
    """Cells replaced by hostile values; sometimes a structural change (short/long/blank rows, duplicate or
    missing headers). Returns [header, *rows]."""
    header = list(header)
    rows = [list(r) for r in rows]
    pool: list[object] = TEXTS + TYPED if typed else TEXTS
    for _ in range(rng.randint(1, 6)):
        r, c = rng.randrange(len(rows)), rng.randrange(len(header))
        rows[r][c] = rng.choice(pool)
    if rng.random() < 0.3:  # a whole column at once: a filled-down or Excel-mangled column
        c = rng.randrange(len(header))
        value = rng.choice(pool)
        for r in rows:
            r[c] = value
    if not typed and rng.random() < 0.4:
        kind = rng.choice(["short", "long", "blank", "dup-header", "alias-header", "no-rows", "drop-column"])
        r = rng.randrange(len(rows))
        if kind == "short":
            rows[r] = rows[r][: rng.randrange(len(header))]
        elif kind == "long":
            rows[r] = [*rows[r], "extra", "", "多余"]
        elif kind == "blank":
            rows.insert(r, [""] * len(header))
        elif kind == "dup-header":
            header[rng.randrange(len(header))] = rng.choice(header)
        elif kind == "alias-header":
            header[0] = "household_id" if rng.random() < 0.5 else "证件号码"
        elif kind == "no-rows":
            rows = []
        else:
            c = rng.randrange(len(header))
            header.pop(c)
            rows = [row[:c] + row[c + 1 :] for row in rows]
    return [header, *rows]


def _csv_bytes(rng: random.Random, table: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(table)  # rows keep their own length: short and long rows stay so
    text = out.getvalue()
    if rng.random() < 0.08:  # mixed encodings: one line in GB18030, the rest UTF-8
        lines = text.split("\r\n")
        k = rng.randrange(len(lines))
        mixed = [line.encode("gb18030") if i == k else line.encode() for i, line in enumerate(lines)]
        return b"\r\n".join(mixed)
    return text.encode("gb18030" if rng.random() < 0.08 else "utf-8")


def _xlsx_bytes(table: list[list[Any]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in table:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(c: object) -> object:
    if isinstance(c, str):  # a spreadsheet cannot hold control characters
        return "".join(ch for ch in c if ch >= " " or ch in "\t\n\r")[:32_000]
    if isinstance(c, float) and c != c:
        return None
    return c


def _rows_in(table: list[list[Any]]) -> int:
    """Data rows with at least one non-blank cell (what the reader counts as rows)."""

    def blank(c: object) -> bool:
        return c is None or (isinstance(c, str) and c.strip(TRIM) == "") or (isinstance(c, float) and c != c)

    return sum(1 for row in table[1:] if not all(blank(c) for c in row))


def _check_folder(out: Path, rows: int | None, where: str) -> None:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = set(manifest["outputs"])
    assert listed | {"manifest.json"} == {p.name for p in out.iterdir()}, where
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, f"{where}: {name}"
    counts = manifest["input"]
    assert counts["rows_accepted"] + counts["rows_rejected"] == counts["rows_read"], where
    if rows is not None:
        assert counts["rows_read"] == rows, f"{where}: {counts['rows_read']} rows read of {rows}"
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["行号"].nunique() == counts["rows_rejected"], where
    assert set(rejects["原因代码"]) <= _reason_codes(), where


def _reason_codes() -> set[str]:
    from subsidy_engine.roster.validate import REASONS

    return set(REASONS)


def test_mutated_seed_rosters_never_crash_and_lose_no_row(
    seed_sample: tuple[list[str], list[list[str]]], tmp_path: Path
) -> None:
    header, rows = seed_sample
    rng = random.Random(SEED)
    outcomes: dict[int, int] = {}
    for case in range(CASES):
        typed = case % XLSX_EVERY == XLSX_EVERY - 1
        table = _mutate(rng, header, rows, typed)
        roster = tmp_path / f"case-{case}.{'xlsx' if typed else 'csv'}"
        if typed:
            table = [[_xlsx_cell(c) for c in row] for row in table]
            roster.write_bytes(_xlsx_bytes(table))
        else:
            roster.write_bytes(_csv_bytes(rng, table))
        out = tmp_path / f"out-{case}"
        where = f"seed {SEED} case {case} ({roster})"
        result = CliRunner().invoke(main, ["evaluate", str(roster), "--period", "2023", "--out", str(out)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{where}: {result.exception!r}\n{result.output}"
        )
        assert result.exit_code in EXIT_CODES, f"{where}: exit {result.exit_code}\n{result.output}"
        assert "Traceback" not in result.output, where
        outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
        if result.exit_code == 0:
            # a file that is not UTF-8 is decoded as GB18030 whole: its mixed lines may read differently
            raw = roster.read_bytes()
            plain = typed or raw.decode("utf-8", "replace") == raw.decode("utf-8", "ignore")
            _check_folder(out, _rows_in(table) if plain else None, where)
        else:
            assert not out.exists(), f"{where}: a refused file left {out}"
            assert result.stderr.startswith("错误:") and result.stderr.count("\n") == 1, (
                f"{where}: {result.stderr}"
            )
    assert outcomes.get(0, 0) >= CASES // 2 and outcomes.get(3, 0) >= 1, outcomes  # both paths were exercised
