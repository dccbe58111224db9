"""The fact table: one row per accepted person, the fields rules may read, derived once per reference date.

Dates never reach the rules: `alive`, `age`, `monitored`, `cert_valid` and `dibao_in_period` are computed
here for one reference date d (docs/specification.md §3), and the rulebook's definitions (needy, dibao_active, covered, …,
including household aggregates) are added on top by the engine. Enum fields are int8 codes (-1 = blank).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from subsidy_engine.roster import cells, idcard
from subsidy_engine.roster.validate import NO_DATE, NO_MONEY
from subsidy_engine.rulebook.vocabulary import FIELDS, NULL_INT


@dataclass
class Base:
    """What does not depend on the date, computed once per roster."""

    frame: pd.DataFrame  # static columns (codes, bools, ints)
    birth: np.ndarray  # day numbers
    birth_y: np.ndarray
    birth_md: np.ndarray  # month * 100 + day
    died: np.ndarray
    risk_end: np.ndarray
    cert_end: np.ndarray
    dibao_from: np.ndarray
    dibao_to: np.ndarray
    household: np.ndarray  # household codes 0..H-1
    n_households: int

    @functools.cached_property
    def columns(self) -> dict[str, np.ndarray]:
        """The static columns as numpy arrays, taken out of the frame once."""
        return {str(c): self.frame[c].to_numpy() for c in self.frame.columns}


def _codes(series: pd.Series, allowed: tuple[str, ...]) -> np.ndarray:
    """Enum codes (-1 = blank): the categorical codes validation produced, else looked up value by value."""
    if isinstance(series.dtype, pd.CategoricalDtype) and tuple(series.cat.categories) == allowed:
        return series.cat.codes.to_numpy(dtype=np.int8)
    lookup = {v: i for i, v in enumerate(allowed)}
    return np.array([lookup.get(v, -1) for v in series.to_numpy(dtype=object)], dtype=np.int8)


def base_facts(persons: pd.DataFrame) -> Base:
    p = persons
    ids = p["id_number"].to_numpy(dtype=object)
    birth, by, birth_md, is_male = idcard.birth_parts(ids)
    cert = p["disability_cert"].to_numpy(dtype=object)
    holders = np.flatnonzero(~pd.isna(cert))
    has_cert = np.zeros(len(cert), dtype=bool)
    has_cert[holders] = True
    cat = np.full(len(cert), NULL_INT, dtype=np.int64)
    grade_d = np.full(len(cert), NULL_INT, dtype=np.int64)
    cat[holders] = [int(c[18]) for c in cert[holders]]  # 残疾类别: 19th character
    grade_d[holders] = [int(c[19]) for c in cert[holders]]  # 残疾等级: 20th character
    hh_codes, hh_uniques = pd.factorize(p["household_id"].to_numpy(dtype=object))
    income = p["income_per_capita_month"].to_numpy(dtype=np.int64)
    ticket = p["ticket_amount"].to_numpy(dtype=np.int64)
    static = pd.DataFrame(
        {
            "household_type": _codes(p["household_type"], FIELDS["household_type"].values),
            "monitor_type": _codes(p["monitor_type"], FIELDS["monitor_type"].values),
            "dibao_area": _codes(p["dibao_area"], FIELDS["dibao_area"].values),
            "owns_vehicle": p["owns_vehicle"].to_numpy(dtype=bool),
            "income_per_capita_month": np.where(income == NO_MONEY, 0, income),
            "relation": _codes(p["relation"], FIELDS["relation"].values),
            "sex": np.where(is_male, 0, 1).astype(np.int8),
            "dibao_covered": p["dibao_covered"].to_numpy(dtype=bool),
            "tekun": p["tekun"].to_numpy(dtype=bool),
            "public_payroll": p["public_payroll"].to_numpy(dtype=bool),
            "resident_insurance": p["resident_insurance"].to_numpy(dtype=bool),
            "school_stage": _codes(p["school_stage"], FIELDS["school_stage"].values),
            "boarding": p["boarding"].to_numpy(dtype=bool),
            "grade": p["grade"].to_numpy(dtype=np.int64),
            "work_location": _codes(p["work_location"], FIELDS["work_location"].values),
            "ticket_amount": np.where(ticket == NO_MONEY, 0, ticket),
            "has_disability_cert": has_cert,
            "disability_category": cat,
            "disability_grade": grade_d,
        }
    )
    static["is_head"] = static["relation"].to_numpy() == FIELDS["relation"].values.index("户主")
    risk_end = p["risk_eliminated_on"].to_numpy(dtype=np.int64)
    return Base(
        frame=static,
        birth=birth,
        birth_y=by,
        birth_md=birth_md,
        died=p["died_on"].to_numpy(dtype=np.int64),
        risk_end=np.where(static["monitor_type"].to_numpy() >= 0, risk_end, np.int64(-1)),
        cert_end=np.where(has_cert, p["disability_cert_valid_to"].to_numpy(dtype=np.int64), np.int64(-1)),
        dibao_from=np.where(
            static["dibao_area"].to_numpy() >= 0, p["dibao_from"].to_numpy(dtype=np.int64), NO_DATE
        ),
        dibao_to=p["dibao_to"].to_numpy(dtype=np.int64),
        household=hh_codes,
        n_households=len(hh_uniques),
    )


def facts_arrays(base: Base, d: dt.date) -> dict[str, np.ndarray]:
    """The fact columns at reference date d as numpy arrays (definitions are added by the engine)."""
    day = cells.day_number(d)
    month = cells.month_number(d.year, d.month)
    f = dict(base.columns)
    f["alive"] = (base.birth <= day) & (base.died >= day)
    before_birthday = (d.month * 100 + d.day) < base.birth_md
    f["age"] = d.year - base.birth_y - before_birthday.astype(np.int64)
    f["monitored"] = base.risk_end > day  # -1 when not monitored, NO_DATE when risk not eliminated
    f["cert_valid"] = base.cert_end >= day
    f["dibao_in_period"] = (base.dibao_from <= month) & (month <= base.dibao_to)
    return f


def facts_at(base: Base, d: dt.date) -> pd.DataFrame:
    """The fact table at reference date d, as a frame (definitions are added by the engine)."""
    return pd.DataFrame(facts_arrays(base, d), copy=False)
