"""The rule file format as pydantic models: what keys a rulebook, a definitions file and a program
file may hold. Unknown keys are refused (`extra="forbid"`); rulebook.py turns a refusal into file:line: message."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import yamlio


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Model):
    id: str
    title: str
    url: str | None = None


class ValueEntry(_Model):
    """A parameter's value from a date on. `status` is the value's; `start_status: assumed` says the value is
    published but its first month in force is not, so results from that month to the end of its calendar year
    rest on an assumption (by the next January the value was in force, whatever its exact start)."""

    value: Decimal | dict[str, Decimal]
    status: Literal["official", "assumed"]
    start_status: Literal["official", "assumed"] = "official"
    reference: str
    note: str | None = None


class Parameter(_Model):
    description: str
    unit: str
    key: str | None = None
    values: dict[dt.date, ValueEntry | None]

    @field_validator("values", mode="before")
    @classmethod
    def _date_keys(cls, values: Any) -> Any:
        """Effective dates are calendar dates written YYYY-MM-DD (a YAML date or the same text quoted), once
        each; a number is refused (pydantic would read it as seconds since 1970), so is a time of day."""
        if not isinstance(values, dict):
            return values
        out: dict[dt.date, Any] = {}
        for k, v in values.items():
            if isinstance(k, dt.datetime):
                raise _date_key_error(k, "生效日期只写日期 YYYY-MM-DD,不带时间")
            if isinstance(k, dt.date):
                d = k
            elif isinstance(k, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", k.strip()):
                problem = yamlio.date_problem(k)
                if problem:
                    raise _date_key_error(k, f"生效日期 {k!r} 不是有效的日期:{problem}")
                d = dt.date.fromisoformat(k.strip())
            else:
                raise _date_key_error(k, f"生效日期 {k!r} 应写成 YYYY-MM-DD")
            if d in out:
                raise _date_key_error(k, f"生效日期 {d} 写了两次")
            out[d] = v
        return out


def _date_key_error(key: Any, message: str) -> PydanticCustomError:
    return PydanticCustomError("date_key", message, {"key": str(key)})


class Choice(_Model):
    """One wording of a phrase, used where its condition `when` holds (no `when`: otherwise)."""

    when: str | None = None
    text: str


Words = str | list[Choice]


class Phrase(_Model):
    """The words of a condition (rulebook/phrases.py): `phrase` where it holds, `phrase_not` where it fails;
    each a text template, or a list of wordings chosen by condition (the last one without `when`)."""

    phrase: Words
    phrase_not: Words | None = None


class Conjunct(_Model):
    """One condition of a definition written as a list; `finding` names the auditor's finding raised where
    this condition alone fails (the definition's conditions without a finding hold)."""

    when: str
    finding: str | None = None
    phrase: Words | None = None
    phrase_not: Words | None = None
    note: str | None = None


class Definition(_Model):
    title: str
    when: str | list[str | Conjunct] | None = None
    value: str | None = None
    phrase: Words | None = None
    phrase_not: Words | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Definition:
        if (self.when is None) == (self.value is None):
            raise ValueError("a definition has exactly one of `when` (a condition) or `value` (a count)")
        return self


class Rule(_Model):
    id: str
    title: str
    when: str
    amount: str
    reference: str | None = None
    phrase: Words | None = None
    phrase_not: Words | None = None
    note: str | None = None


class Schedule(_Model):
    kind: Literal["monthly", "semester", "annual"]
    reference_dates: list[str] = []

    @model_validator(mode="after")
    def _dates(self) -> Schedule:
        if self.kind == "monthly" and self.reference_dates:
            raise ValueError(
                "a monthly schedule is evaluated on the first day of each month: omit reference_dates"
            )
        if self.kind != "monthly" and not self.reference_dates:
            raise ValueError(f"a {self.kind} schedule needs reference_dates (MM-DD)")
        for md in self.reference_dates:
            try:
                assert re.fullmatch(r"\d\d-\d\d", md)
                dt.date(
                    2023, int(md[:2]), int(md[3:])
                )  # a year without 29 February: it must exist every year
            except (ValueError, AssertionError):
                raise ValueError(f"reference date {md!r} is not MM-DD (a day every year has)") from None
        if len(set(self.reference_dates)) != len(self.reference_dates):
            raise ValueError("a reference date is listed twice")
        return self


class ProgramFile(_Model):
    program: str
    title: str
    description: str
    entity: Literal["person", "household"]
    schedule: Schedule
    hit_policy: Literal["collect", "highest", "first"]
    references: list[Reference] = Field(min_length=1)
    parameters: dict[str, Parameter] = {}
    definitions: dict[str, Definition] = {}
    phrases: dict[str, Phrase] = {}  # condition text -> its words, for conditions the rules write inline
    rules: list[Rule]


class DefinitionsFile(_Model):
    title: str
    description: str
    definitions: dict[str, Definition]
    phrases: dict[str, Phrase] = {}  # condition text -> its words, for conditions written inline


class Finding(_Model):
    """An auditor's finding declared as data (findings file). Three kinds:

    - raised by a definition's condition (`finding:` on one of its conditions): `program` (whose lines are at
      risk, and whose entity decides person or household), `subject` and `evidence` per month;
    - about payment lines: `lines` (program ids) and `when`, evaluated for the line's person at the line's
      reference date; `paid_only` when it applies to a paid list only;
    - about a person: `when` at the start of the period; `program` (at risk) and, with `stacked_with`, only the
      months in which the person was also paid that program.
    """

    title: str
    program: str | None = None
    lines: list[str] | None = None
    when: str | None = None
    paid_only: bool = False
    subject: str | None = None
    evidence: str
    stacked_with: str | None = None
    stacked_evidence: str | None = None
    note: str | None = None


class FindingsFile(_Model):
    title: str
    description: str
    findings: dict[str, Finding]


class RulebookFile(_Model):
    name: str
    title: str
    description: str
    definitions: list[str]
    programs: list[str]
    findings: str | None = None


def parse_file(cls: type[_Model], data: Any, path: Path) -> Any:
    """Validate loaded YAML against a file model; a refusal names file, line, key and the likely fix."""
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        loc = tuple(_date_part(x) for x in err["loc"])  # pydantic writes a date key as its repr
        key = ".".join(str(x) for x in loc)
        msg = err["msg"]
        if err["type"] == "date_key":
            loc = (*loc, err["ctx"]["key"])  # the line of the date itself
        if err["type"] == "extra_forbidden":
            allowed = list(_fields_at(cls, loc[:-1]))
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = f"未知的键 {loc[-1]!r}" + (
                f",是否想写 {hint[0]!r}?" if hint else f"(可用: {', '.join(allowed)})"
            )
        elif err["type"] == "missing":
            msg = f"缺少必需的键 {loc[-1]!r}"
        elif err["type"] == "literal_error":
            msg = f"{loc[-1]} 不能是 {err['input']!r}(可选: {err['ctx']['expected']})"
        raise RulebookError(msg, file=str(path), key=key, line=yamlio.line_of(data, loc)) from None


def _date_part(part: Any) -> Any:
    """pydantic names a date key of `values` as `datetime.date(2023, 9, 1)`: the date itself (shown 2023-09-01)."""
    m = re.fullmatch(r"datetime\.date\((\d+), (\d+), (\d+)\)", str(part))
    return dt.date(*(int(x) for x in m.groups())) if m else part


def _fields_at(cls: type[_Model], loc: tuple[Any, ...]) -> list[str]:
    model: Any = cls
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            continue
        ann = info.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            model = next((a for a in args[1:] if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return list(getattr(model, "model_fields", {})) if model else []
