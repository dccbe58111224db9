"""The seed scenario (SPEC §6): a 2023 run of the 兴隆镇 roster reproduces the town report's figures,
each asserted from the payments file the CLI writes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from subsidy_engine.cli.main import main
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import validate

ROSTER = Path(__file__).resolve().parents[1] / "fixtures" / "xinglong-2023" / "roster.xlsx"


@pytest.fixture(scope="module")
def payments(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("seed") / "run"
    result = CliRunner().invoke(main, ["evaluate", str(ROSTER), "--period", "2023", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "读入 26001 行:采用 26001 行,拒绝 0 行" in result.stdout
    frame = pd.read_csv(out / "payments.csv", dtype=str, keep_default_na=False)
    frame["amount"] = frame["金额"].map(Decimal)
    return frame


def _program(payments: pd.DataFrame, program: str, rule: str | None = None) -> pd.DataFrame:
    lines = payments[payments["项目"] == program]
    return lines if rule is None else lines[lines["规则"] == rule]


def test_medical_premium_for_509_needy_persons_is_25450(payments: pd.DataFrame) -> None:
    tier = _program(payments, "medical_premium", "premium_needy")
    assert tier["证件号码"].nunique() == len(tier) == 509
    assert tier["amount"].sum() == Decimal("25450.00")
    assert set(tier["金额"]) == {"50.00"}


def test_education_aid_is_396_lines_and_18_07_wan(payments: pd.DataFrame) -> None:
    edu = _program(payments, "education_aid")
    assert len(edu) == 396
    total = edu["amount"].sum()
    # every education amount is a multiple of 62.50, so the report's rounded 18.07万 is 180,687.50 here
    assert total == Decimal("180687.50")
    assert round(total / 10000, 2) == Decimal("18.07")
    assert set(edu["发放月份"]) == {"2023-03", "2023-09"}


def test_migrant_transport_302_persons_31150_at_flat_rates(payments: pd.DataFrame) -> None:
    mt = _program(payments, "migrant_transport")
    assert mt["证件号码"].nunique() == len(mt) == 302
    assert mt["amount"].sum() == Decimal("31150.00")
    assert mt["金额"].value_counts().to_dict() == {"50.00": 195, "200.00": 107}
    assert set(mt["规则"]) == {"transport_flat"}


def test_disability_365_persons_158000_living_127000_care(payments: pd.DataFrame) -> None:
    living = _program(payments, "disability_living")
    care = _program(payments, "disability_care")
    assert living["amount"].sum() == Decimal("158000.00")
    assert care["amount"].sum() == Decimal("127000.00")
    assert len(set(living["证件号码"]) | set(care["证件号码"])) == 365


def test_15_new_dibao_households_in_2023_all_paid(payments: pd.DataFrame) -> None:
    persons = validate(read_roster(ROSTER)).persons
    start = persons["dibao_from"]
    new = set(persons.loc[(start >= 2023 * 12) & (start < 2024 * 12), "household_id"])
    assert len(new) == 15
    assert new <= set(_program(payments, "dibao")["户编号"])


def test_dibao_and_tekun_come_to_5_6_million(payments: pd.DataFrame) -> None:
    total = _program(payments, "dibao")["amount"].sum() + _program(payments, "tekun")["amount"].sum()
    assert Decimal("5600000") <= total <= Decimal("5700000")
    assert str(round(total / 10000)) == "564"  # "发放低保等各类资金560余万元"
