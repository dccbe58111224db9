"""money.py: yuan ↔ integer fen exactly, both ways, and the sites that convert a column of amounts."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidy_engine.money import fen, fen_text, is_fen
from subsidy_engine.run.payments import amounts_fen, yuan


@pytest.mark.parametrize(
    ("yuan_in", "expected"),
    [
        (Decimal("12.5"), 1250),
        (Decimal("704.690"), 70469),
        (Decimal("1E+3"), 100000),
        ("0.01", 1),
        ("-0.50", -50),
        ("-1.50", -150),
        ("1234.56", 123456),
        (3, 300),
        ("0", 0),
        (Decimal("-0"), 0),
    ],
)
def test_yuan_to_fen_is_exact(yuan_in: Decimal | str | int, expected: int) -> None:
    assert fen(yuan_in) == expected


@pytest.mark.parametrize("bad", ["1.005", "abc", "", "NaN", "Infinity", Decimal("0.001")])
def test_what_is_not_a_whole_number_of_fen_is_refused(bad: str | Decimal) -> None:
    with pytest.raises(ValueError):
        fen(bad)


@pytest.mark.parametrize("bad", [1.5, True])
def test_a_float_is_never_money(bad: object) -> None:
    with pytest.raises(TypeError):
        fen(bad)  # type: ignore[arg-type]


def test_fen_to_text() -> None:
    assert [fen_text(f) for f in (0, 5, 50, 123456, -50, -123456)] == [
        "0.00",
        "0.05",
        "0.50",
        "1234.56",
        "-0.50",
        "-1234.56",
    ]
    assert fen_text(639323800, grouped=True) == "6,393,238.00"
    assert fen_text(-100000, grouped=True) == "-1,000.00"


def test_whole_fen() -> None:
    assert is_fen(Decimal("1.20")) and is_fen(Decimal("3")) and is_fen(Decimal("1.200"))
    assert not is_fen(Decimal("1.205")) and not is_fen(Decimal("NaN"))


@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_text_and_back(n: int) -> None:
    assert fen(fen_text(n)) == n
    assert fen(fen_text(n, grouped=True).replace(",", "")) == n


def test_a_column_of_amounts() -> None:
    frame = pd.DataFrame({"金额": ["12.50", "0.05", "-1.50", "12.50", "300.00"]})
    assert amounts_fen(frame).tolist() == [1250, 5, -150, 1250, 30000]
    assert amounts_fen(frame.iloc[:0]).tolist() == []
    assert list(yuan(amounts_fen(frame))) == ["12.50", "0.05", "-1.50", "12.50", "300.00"]


def test_loading_a_rulebook_needs_no_pandas() -> None:
    probe = "import sys, subsidy_engine.rulebook.load as l; l.load_rulebook(); print('pandas' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip() == "False"
