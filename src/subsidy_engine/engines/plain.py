"""The explanation as a caseworker reads it: per program and person, one conclusion in plain Chinese.

From the report of engines/explain.py (its `说明` words per reference date): paid or not, how much, in which
months, with runs of equal months merged ("2023-01 至 2023-08 每月 628.00 元,2023-09 至 2023-12 每月
666.00 元,全年 7,688.00 元"); why not in the rule files' words; what would change it; how the amount is
worked out; the standards it rests on with their notice and 正式/假定. No rule identifier is printed: programs
by their title, everything else in the rule files' Chinese words. The condition trace is `render_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from subsidy_engine.rulebook.words import yuan

NUMERALS = "一二三四五六七八九十"


@dataclass
class Run:
    """Consecutive reference dates with the same outcome."""

    months: list[str]
    fen: int
    reasons: tuple[str, ...]
    amounts: tuple[str, ...] = ()
    hints: list[str] = field(default_factory=list)

    def label(self, monthly: bool) -> str:
        if len(self.months) == 1:
            return self.months[0]
        return f"{self.months[0]} 至 {self.months[-1]}" if monthly else "、".join(self.months)


@dataclass
class Outcome:
    """One person's (or household's) dates of one program."""

    who: str
    monthly: bool
    runs: list[Run] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    dates: int = 0

    def add(self, month: str, decided: dict[str, Any]) -> None:
        self.dates += 1
        words = decided.get("说明", {})
        fen = sum(r["金额分"] for r in decided["规则"] if r["采用"])
        reasons = () if decided["符合"] else tuple(words.get("原因", ["不符合"]))
        amounts = tuple(words.get("金额", []))
        last = self.runs[-1] if self.runs else None
        if last is not None and (last.fen, last.reasons, last.amounts) == (fen, reasons, amounts):
            last.months.append(month)
        else:
            last = Run([month], fen, reasons, amounts)
            self.runs.append(last)
        last.hints += [x for x in words.get("提示", []) if x not in last.hints]
        self.params += [x for x in words.get("参数", []) if x not in self.params]


def outcomes(program: dict[str, Any]) -> list[Outcome]:
    monthly = program.get("发放方式") == "monthly"
    by_who: dict[str, Outcome] = {}
    for date in program["日期"]:
        for decided in date["对象"]:
            who = f"{decided['姓名']}({decided['与户主关系']})"
            by_who.setdefault(who, Outcome(who, monthly)).add(date["发放月份"], decided)
    return list(by_who.values())


def conclusion(o: Outcome, title: str, year: bool) -> str:
    paid = [r for r in o.runs if r.fen > 0]
    unpaid = [r for r in o.runs if r.fen == 0]
    if not paid:
        if len(unpaid) == 1:
            return f"不享受。{';'.join(unpaid[0].reasons)},不符合{title}条件。"
        each = ";".join(f"{r.label(o.monthly)} {';'.join(r.reasons)}" for r in unpaid)
        return f"不享受。{each};不符合{title}条件。"
    each = "每月" if o.monthly else "每次"
    parts = [f"{r.label(o.monthly)} {each + ' ' if len(r.months) > 1 else ''}{yuan(r.fen)} 元" for r in paid]
    total = sum(r.fen * len(r.months) for r in paid)
    text = "享受:" + ",".join(parts)
    if sum(len(r.months) for r in paid) > 1 or unpaid:
        text += f",{'全年' if year else '合计'} {yuan(total)} 元"
    if unpaid:
        text += ";未享受: " + ";".join(f"{r.label(o.monthly)} {';'.join(r.reasons)}" for r in unpaid)
    return text + "。"


def outcome_lines(o: Outcome, title: str, year: bool, indent: str) -> list[str]:
    lines = [f"{indent}{conclusion(o, title, year)}"]
    worked = [r for r in o.runs if r.fen > 0]
    distinct = list(dict.fromkeys(r.amounts for r in worked))
    if len(distinct) == 1:
        lines.append(f"{indent}怎么算: {';'.join(distinct[0])}")
    elif distinct:
        lines.append(f"{indent}怎么算:")
        lines += [f"{indent}  {r.label(o.monthly)}: {';'.join(r.amounts)}" for r in worked]
    for r in o.runs:
        when = f"({r.label(o.monthly)})" if r.fen == 0 and len(o.runs) > 1 else ""
        lines += [f"{indent}提示{when}: {hint}" for hint in r.hints]
    if o.params:
        lines.append(f"{indent}依据的标准:")
        lines += [f"{indent}  {p}" for p in o.params]
    return lines


def render_plain(report: dict[str, Any]) -> str:
    """The default text of `subsidy explain`."""
    year = len(report["期间"]) == 4
    period = f"{report['期间']} 年" if year else report["期间"]
    lines = [f"户编号 {report['户编号']}  {report['乡镇']} {report['行政村']}  期间 {period}"]
    lines.append("成员: " + "、".join(f"{m['姓名']}({m['与户主关系']})" for m in report["成员"]))
    if "查询人" in report:
        q = report["查询人"]
        lines.append(f"查询人: {q['姓名']}({q['与户主关系']},证件号码 {q['证件号码']})")
    lines.append(f"规则库: {report['规则库名称']}")
    for n, program in enumerate(report["项目"]):
        number = NUMERALS[n] if n < len(NUMERALS) else str(n + 1)
        found = outcomes(program)
        household = program["对象类型"].startswith("按户")
        lines.append("")
        if household:
            payee = found[0].who if found else "户主"
            lines.append(f"{number}、{program['名称']}(按户发放,领款人 {payee})")
            for o in found:
                lines += outcome_lines(o, program["名称"], year, "  ")
            continue
        lines.append(f"{number}、{program['名称']}(按人发放)")
        same: dict[tuple[str, ...], list[str]] = {}  # members with the same words are listed together
        for o in found:
            same.setdefault(tuple(outcome_lines(o, program["名称"], year, "    ")), []).append(o.who)
        for body, who in same.items():
            lines.append(f"  {'、'.join(who)}: {body[0].strip()}")
            lines += body[1:]
    return "\n".join(lines) + "\n"
