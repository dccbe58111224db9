"""Blank lines, short and long rows in a CSV read by pyarrow: the same rows, row numbers, rejects and payments as
the careful (csv module) reader gives, and the fast reader really is the one used."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from subsidy_engine.roster import csv_lines, csv_read
from subsidy_engine.roster.read import read_roster
from subsidy_engine.run.pipeline import evaluate_roster

SMALL = Path(__file__).parent.parent / "fixtures" / "small"


def _rows() -> tuple[str, list[str]]:
    header = ""
    rows: list[str] = []
    for name in (
        "rural-dibao-severely-disabled",
        "tekun-elderly-dies-in-october",
        "tuopin-vocational-migrant",
    ):
        lines = (SMALL / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        header, rows = lines[0], rows + lines[1:]
    return header, rows


def _odd_roster(tmp_path: Path, newline: str) -> Path:
    """The small fixtures' rows with blank lines (empty, commas only, spaces), a short row, a long row with a
    value past the header, a long row with only blank cells past it, and a household split by other rows."""
    header, rows = _rows()
    width = header.count(",")
    short = rows[3].rsplit(",", 4)[0]  # cut before its last cells: ROW_TOO_SHORT, its household rejected
    long_bad = rows[7] + ",多余"  # ROW_TOO_LONG
    long_blank = rows[1] + ",,"  # blank cells past the header: accepted
    lines = [
        header,
        rows[0],
        "",
        long_blank,
        "," * width,
        short,
        rows[4],
        " ,\u3000," + "," * (width - 2),
        rows[5],
        rows[2],  # the first household, split by the others
        rows[6],
        "",
        long_bad,
    ]
    path = tmp_path / "odd.csv"
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_odd_rows_read_fast_as_the_careful_reader_reads_them(
    tmp_path: Path, newline: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _odd_roster(tmp_path, newline)
    used: list[int] = []
    real = csv_lines.cells_with_odd_rows

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        got = real(*args, **kwargs)
        used.append(0 if got is None else len(got.frame))
        return got

    monkeypatch.setattr(csv_lines, "cells_with_odd_rows", spy)
    fast = evaluate_roster(read_roster(path), "2023")
    assert used == [12]  # pyarrow's rows and the three it skipped (the short and both long ones)
    monkeypatch.undo()
    monkeypatch.setattr(csv_read, "_read_arrow", lambda *a: None)
    careful = evaluate_roster(read_roster(path), "2023")

    assert fast.validated.rows_read == careful.validated.rows_read == 8  # blank lines are not rows
    assert fast.validated.rows_rejected == careful.validated.rows_rejected > 0
    assert set(fast.validated.rejects["原因代码"]) >= {"ROW_TOO_SHORT", "ROW_TOO_LONG", "HOUSEHOLD_REJECTED"}
    pd.testing.assert_frame_equal(fast.validated.rejects, careful.validated.rejects)
    pd.testing.assert_frame_equal(fast.payments, careful.payments)
    pd.testing.assert_frame_equal(fast.totals, careful.totals)
    assert fast.validated.persons["_row"].tolist() == careful.validated.persons["_row"].tolist()
    assert len(fast.payments) > 0


def test_a_file_with_quotes_is_not_laid_out_by_lines(tmp_path: Path) -> None:
    assert not csv_lines.simple_lines(b'a,b\n"1\n2",3\n')
    assert not csv_lines.simple_lines(b"a,b\r1,2\r")  # CR-only line ends
    assert csv_lines.simple_lines(b"a,b\r\n1,2\r\n")


def test_odd_lines_are_found_in_every_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_lines, "BLOCK_BYTES", 8)
    data = b"a,b,c\n1,2,3\n4,5\n\n,,\n6,7,8,9\n10,11,12"
    lines, starts, ends, n = csv_lines.odd_lines(data, 3)
    assert lines.tolist() == [2, 5] and n == 7
    assert [data[a:b] for a, b in zip(starts, ends, strict=True)] == [b"4,5", b"6,7,8,9"]
