"""The compiled rulebook: parameters with their values by date, definitions, programs and rules, as loaded.

A folder holds `rulebook.yaml` (name, coverage notes, the program files in report order, shared definition
files) and one file per program. Everything is refused at load time with file, line and key: unknown keys,
unknown names (with a suggestion), type errors, decision tables with gaps or unknown keys, duplicate keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from subsidy_engine.errors import PeriodNotCoveredError
from subsidy_engine.money import fen
from subsidy_engine.periods import Period
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook.files import (
    Reference,
    Schedule,
    ValueEntry,
)
from subsidy_engine.rulebook.phrases import CompiledPhrase
from subsidy_engine.rulebook.template import Template

# --- compiled form ------------------------------------------------------------------------------------------


@dataclass
class Param:
    name: str
    file: str
    description: str
    unit: str
    key: str | None
    entries: list[tuple[dt.date, ValueEntry | None]]

    def entry_at(self, d: dt.date) -> tuple[dt.date, ValueEntry] | None:
        found = None
        for start, entry in self.entries:
            if start <= d:
                found = (start, entry)
        if found is None or found[1] is None:
            return None
        return found  # type: ignore[return-value]

    def status_at(self, d: dt.date) -> str | None:
        """`official` or `assumed` for the value in force at d (None: no value): assumed when the value is, or
        when its first month in force is assumed and d falls in that month's calendar year."""
        hit = self.entry_at(d)
        if hit is None:
            return None
        start, entry = hit
        if entry.status == "assumed" or (entry.start_status == "assumed" and d.year == start.year):
            return "assumed"
        return "official"

    def fen_at(self, d: dt.date) -> int | dict[str, int]:
        hit = self.entry_at(d)
        if hit is None:
            raise PeriodNotCoveredError(f"参数 {self.name} 在 {d} 没有有效值", file=self.file)
        v = hit[1].value
        if isinstance(v, dict):
            return {k: fen(x) for k, x in v.items()}
        return fen(v)

    def covered(self) -> tuple[dt.date, dt.date | None] | None:
        """The first continuous span with a value in force: (first day, last day or None = open)."""
        start = None
        for d, entry in self.entries:
            if entry is not None and start is None:
                start = d
            elif entry is None and start is not None:
                return start, d - dt.timedelta(days=1)
        return (start, None) if start is not None else None


@dataclass
class CompiledDefinition:
    name: str
    title: str
    file: str
    node: E.Node
    type: T.Type
    params: set[str]  # parameters it reads directly
    conjuncts: tuple[
        tuple[E.Node, str | None], ...
    ] = ()  # written as a list with findings: (condition, code)


@dataclass
class CompiledRule:
    id: str
    title: str
    when: E.Node
    amount: E.Node
    reference: str
    params: set[str]  # parameters read by the rule and the definitions it uses, transitively
    phrase: CompiledPhrase | None = None  # the rule's `when` in words (phrases.py)


@dataclass
class Program:
    id: str
    title: str
    description: str
    file: str
    entity: str
    schedule: Schedule
    hit_policy: str
    references: list[Reference]
    rules: list[CompiledRule]


@dataclass
class CompiledFinding:
    """An auditor's finding from the findings file (see files.Finding for the three kinds)."""

    code: str
    title: str
    kind: str  # "condition" (a definition's condition fails) | "lines" | "person"
    program: str | None  # whose lines are at risk
    lines: tuple[str, ...]  # kind "lines": the programs whose lines are examined
    when: E.Node | None
    paid_only: bool
    subject: Template | None
    evidence: Template
    stacked_with: str | None
    stacked_evidence: Template | None
    definition: str | None = (
        None  # kind "condition": the definition, its other conditions and the failing one
    )
    gate: tuple[E.Node, ...] = ()
    failed: E.Node | None = None


@dataclass
class Rulebook:
    name: str
    title: str
    folder: Path
    programs: list[Program]
    params: dict[str, Param]
    definitions: list[CompiledDefinition]  # in dependency order
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    findings: list[CompiledFinding] = field(default_factory=list)  # the auditor's findings, in file order
    phrases: dict[str, CompiledPhrase] = field(default_factory=dict)  # condition text -> words
    description: str = ""

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for path, sha in sorted(self.files.items()):
            h.update(f"{path}\0{sha}\n".encode())
        return h.hexdigest()

    def coverage(self) -> tuple[dt.date, dt.date]:
        spans = [p.covered() for p in self.params.values()]
        starts = [s[0] for s in spans if s]
        ends = [s[1] for s in spans if s and s[1] is not None]
        return max(starts, default=dt.date.min), min(ends, default=dt.date.max)

    def check_period(self, period: Period) -> None:
        """Refuse a period in which some parameter has no value in force, naming it and the coverage."""
        lo, hi = self.coverage()
        for p in self.params.values():
            gap = (
                period.start
                if p.entry_at(period.start) is None
                else next(
                    (d for d, entry in p.entries if period.start < d <= period.end and entry is None), None
                )
            )
            if gap is not None:
                err = PeriodNotCoveredError(
                    f"无法计算期间 {period.label}: 参数 {p.name}({Path(p.file).name})在 {gap} 没有有效值;"
                    f"本规则库 {self.name} 覆盖 {lo} 至 {hi}"
                )
                err.file = p.file
                raise err

    def finding_titles(self) -> dict[str, str]:
        return {f.code: f.title for f in self.findings}

    def program(self, pid: str) -> Program:
        for p in self.programs:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def assumed(self, params: set[str], d: dt.date) -> list[str]:
        """Of these parameters, those whose value in force at d is only assumed: `name@effective date`."""
        out = []
        for name in sorted(params):
            hit = self.params[name].entry_at(d)
            if hit is not None and self.params[name].status_at(d) == "assumed":
                out.append(f"{name}@{hit[0]}")
        return out
