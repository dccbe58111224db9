"""Typed records of accepted households (pydantic): the roster as a caseworker reads it, one household at a time.

The bulk path works on columns (validate.py, facts.py); these models are the per-household view used to show,
explain and export a household, and they re-check the household invariants of SPEC §2 on their own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from subsidy_engine.roster import cells, idcard
from subsidy_engine.roster.validate import NO_DATE, NO_MONEY

HouseholdType = Literal["脱贫户", "一般农户"]
MonitorType = Literal["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
DibaoArea = Literal["城市", "农村"]
Relation = Literal["户主", "配偶", "子女", "父母", "孙子女", "其他"]
SchoolStage = Literal["学前", "小学", "初中", "普通高中", "中职", "高职"]
WorkLocation = Literal["县内", "区县外市内", "市外"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Record):
    row: int
    name: str
    id_number: str
    relation: Relation
    birth_date: dt.date
    sex: Literal["男", "女"]
    dibao_covered: bool = False
    tekun: bool = False
    public_payroll: bool = False
    resident_insurance: bool = True
    disability_cert: str | None = None
    disability_category: int | None = None
    disability_grade: int | None = None
    disability_cert_valid_to: dt.date | None = None
    school_stage: SchoolStage | None = None
    boarding: bool = False
    grade: int | None = None
    work_location: WorkLocation | None = None
    ticket_amount: Decimal = Decimal("0.00")
    died_on: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Person:
        problem = idcard.id_problem(self.id_number)
        if problem:
            raise ValueError(problem[1])
        if self.disability_cert is not None and not self.disability_cert.startswith(self.id_number):
            raise ValueError("残疾证号前18位应为持证人本人的证件号码")
        if self.died_on is not None and self.died_on < self.birth_date:
            raise ValueError("死亡日期早于出生日期")
        return self


class Household(_Record):
    household_id: str
    town: str
    village: str
    household_type: HouseholdType
    monitor_type: MonitorType | None = None
    risk_eliminated_on: dt.date | None = None
    dibao_area: DibaoArea | None = None
    dibao_from: str | None = None  # YYYY-MM
    dibao_to: str | None = None
    income_per_capita_month: Decimal | None = None
    owns_vehicle: bool = False
    members: list[Person]

    @model_validator(mode="after")
    def _one_head(self) -> Household:
        heads = [m for m in self.members if m.relation == "户主"]
        if len(heads) != 1:
            raise ValueError(f"户编号 {self.household_id} 应有且只有一个户主,实有 {len(heads)} 个")
        if self.dibao_area is None and any(m.dibao_covered for m in self.members):
            raise ValueError("非低保户成员不能低保在保")
        return self

    @property
    def head(self) -> Person:
        return next(m for m in self.members if m.relation == "户主")


def _date(n: object) -> dt.date | None:
    return None if int(n) == NO_DATE else cells.from_day_number(int(n))  # type: ignore[call-overload]


def _month(n: object) -> str | None:
    return None if int(n) == NO_DATE else cells.month_text(int(n))  # type: ignore[call-overload]


def _money(fen: object) -> Decimal | None:
    return None if int(fen) == NO_MONEY else Decimal(int(fen)) / 100  # type: ignore[call-overload]


def _opt(v: object) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v


def households(persons: pd.DataFrame, household_id: str | None = None) -> list[Household]:
    """The accepted households (or one of them) as typed records, members in roster order."""
    frame = persons if household_id is None else persons[persons["household_id"] == household_id]
    out = []
    for hid, group in frame.groupby("household_id", sort=False, observed=True):
        first = group.iloc[0]
        members = []
        for _, r in group.iterrows():
            cert: str | None = _opt(r["disability_cert"])
            members.append(
                Person(
                    row=int(r["_row"]),
                    name=r["name"],
                    id_number=r["id_number"],
                    relation=_opt(r["relation"]),
                    birth_date=cells.from_day_number(
                        int(idcard.birth_day_numbers(np.array([r["id_number"]]))[0])
                    ),
                    sex="男" if idcard.male(np.array([r["id_number"]]))[0] else "女",
                    dibao_covered=bool(r["dibao_covered"]),
                    tekun=bool(r["tekun"]),
                    public_payroll=bool(r["public_payroll"]),
                    resident_insurance=bool(r["resident_insurance"]),
                    disability_cert=cert,
                    disability_category=int(cert[18]) if cert else None,
                    disability_grade=int(cert[19]) if cert else None,
                    disability_cert_valid_to=_date(r["disability_cert_valid_to"]),
                    school_stage=_opt(r["school_stage"]),
                    boarding=bool(r["boarding"]),
                    grade=int(r["grade"]) or None,
                    work_location=_opt(r["work_location"]),
                    ticket_amount=max(_money(r["ticket_amount"]) or Decimal(0), Decimal(0)).quantize(
                        Decimal("0.01")
                    ),
                    died_on=_date(r["died_on"]),
                )
            )
        out.append(
            Household(
                household_id=str(hid),
                town=first["town"],
                village=first["village"],
                household_type=_opt(first["household_type"]),
                monitor_type=_opt(first["monitor_type"]),
                risk_eliminated_on=_date(first["risk_eliminated_on"]),
                dibao_area=_opt(first["dibao_area"]),
                dibao_from=_month(first["dibao_from"]),
                dibao_to=_month(first["dibao_to"]),
                income_per_capita_month=_money(first["income_per_capita_month"]),
                owns_vehicle=bool(first["owns_vehicle"]),
                members=members,
            )
        )
    return out
