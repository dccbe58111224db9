"""`subsidy explain`: why a person (or household) got each payment line, and why not the others.

For every program and reference date of the period: eligible or not; each condition of each rule (the top-level
`and`/`or` of `when`, a definition expanded one level into its own conditions) with the fact values it saw
and whether it held; the parameters in force (value, effective date, reference, 正式/假定); the amount with
the values substituted (`3 × (600.00 − 260.00) + 2 × 30.00 = 1080.00`); and, when not eligible, the first
condition that failed. Values come from the scalar evaluator (scalar.py), the rete engine's independent half.
Only the asked person's 证件号码 is ever shown; other members are named by 姓名 and 与户主关系.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from subsidy_engine import money
from subsidy_engine.engines.contract import choose, params_at, schedule
from subsidy_engine.engines.facts import base_facts, facts_at
from subsidy_engine.engines.reasons import Speaker, amount_params
from subsidy_engine.engines.scalar import Params, Row, Scalar, fact_rows
from subsidy_engine.money import fen_text
from subsidy_engine.periods import Period
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.model import CompiledRule, Program, Rulebook

MARK = {True: "✓", False: "✗"}
OPS = {"*": "×", "-": "−", "+": "+"}


def select(
    persons: pd.DataFrame, *, person: str | None, household: str | None
) -> tuple[pd.DataFrame, int | None]:
    """The asked household's rows (reset index) and, for --person, the asked member's index among them."""
    if person is not None:
        hit = persons.index[persons["id_number"] == person]
        if len(hit) == 0:
            return persons.iloc[0:0], None
        household = persons.at[hit[0], "household_id"]
    rows = persons[persons["household_id"] == household].reset_index(drop=True)
    asked = int(rows.index[rows["id_number"] == person][0]) if person is not None and len(rows) else None
    return rows, asked


def named(persons: pd.DataFrame, name: str) -> list[dict[str, str]]:
    """The accepted persons called `name`: 证件号码 (whole: the caller masks what it shows), 户编号, 行政村."""
    hit = persons[persons["name"].astype(str) == name.strip()]
    return [
        {"证件号码": str(i), "户编号": str(h), "行政村": str(v), "与户主关系": str(r)}
        for i, h, v, r in zip(
            hit["id_number"], hit["household_id"], hit["village"], hit["relation"].astype(object), strict=True
        )
    ]


class Explainer:
    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.scalar = Scalar(rulebook)
        self.defs = {d.name: d for d in rulebook.definitions}

    def explain(self, members: pd.DataFrame, period: Period, asked: int | None) -> dict[str, Any]:
        """The whole explanation of one household (members = its validated rows) as plain data (JSON-able)."""
        self.rulebook.check_period(period)
        base = base_facts(members)
        heads = [i for i, r in enumerate(members["relation"].astype(object)) if r == "户主"]
        who = [
            {"姓名": str(n), "与户主关系": str(r)}
            for n, r in zip(members["name"], members["relation"].astype(object), strict=True)
        ]
        out: dict[str, Any] = {
            "期间": period.label,
            "规则库": self.rulebook.name,
            "户编号": str(members.at[0, "household_id"]),
            "规则库名称": self.rulebook.title,
            "乡镇": str(members.at[0, "town"]),
            "行政村": str(members.at[0, "village"]),
            "成员": who,
            "项目": [],
        }
        if asked is not None:
            out["查询人"] = {**who[asked], "证件号码": str(members.at[asked, "id_number"])}
        cache: dict[dt.date, tuple[Params, list[Row], Speaker]] = {}
        plan = schedule(self.rulebook, period)
        for pi, program in enumerate(self.rulebook.programs):
            dates = []
            for d in [d for d, pis in plan.items() if pi in pis]:
                if d not in cache:
                    params = params_at(self.rulebook, d)
                    rows = fact_rows(facts_at(base, d))
                    self.scalar.add_definitions(rows, params)
                    cache[d] = (params, rows, Speaker(self.rulebook, self.scalar, members, rows, params, d))
                params, rows, speaker = cache[d]
                if program.entity == "household":
                    targets = heads
                else:
                    targets = [asked] if asked is not None else list(range(len(rows)))
                dates.append(
                    {
                        "参考日期": d.isoformat(),
                        "发放月份": f"{d.year:04d}-{d.month:02d}",
                        "对象": [self.decide(program, d, i, rows, params, who[i], speaker) for i in targets],
                    }
                )
            out["项目"].append(
                {
                    "项目": program.id,
                    "名称": program.title,
                    "对象类型": "按户(户主)" if program.entity == "household" else "按人",
                    "发放方式": program.schedule.kind,
                    "命中策略": program.hit_policy,
                    "日期": dates,
                }
            )
        return out

    def evidence(self, persons: pd.DataFrame, pos: int, program_id: str, d: dt.date) -> str:
        """One line of evidence for one person, program and date (used by the cross-check report)."""
        household = persons["household_id"].iat[pos]
        members = persons[persons["household_id"] == household]
        at = int(list(members.index).index(persons.index[pos]))
        members = members.reset_index(drop=True)
        params = params_at(self.rulebook, d)
        rows = fact_rows(facts_at(base_facts(members), d))
        self.scalar.add_definitions(rows, params)
        program = self.rulebook.program(program_id)
        who = {"姓名": str(members.at[at, "name"]), "与户主关系": str(members.at[at, "relation"])}
        decided = self.decide(program, d, at, rows, params, who)
        parts = []
        for r in decided["规则"]:
            verdict = f"成立 {r['金额算式']}" if r["成立"] else r["未通过"]
            parts.append(f"{r['规则']}: {verdict}" + (" [采用]" if r["采用"] else ""))
        return " | ".join(parts)

    def decide(
        self,
        program: Program,
        d: dt.date,
        i: int,
        rows: list[Row],
        params: Params,
        who: dict[str, str],
        speaker: Speaker | None = None,
    ) -> dict[str, Any]:
        row = rows[i]
        rules = [self.rule(r, d, row, rows, params) for r in program.rules]
        chosen = choose(program.hit_policy, [(k, r["金额分"]) for k, r in enumerate(rules) if r["成立"]])
        for k, r in enumerate(rules):
            r["采用"] = k in chosen and r["金额分"] > 0
        paid = sum(r["金额分"] for r in rules if r["采用"])
        result: dict[str, Any] = {
            **who,
            "符合": any(r["采用"] for r in rules),
            "金额": fen_text(paid),
            "规则": rules,
        }
        if not result["符合"]:
            first = next((r for r in rules if not r["成立"]), None)
            result["不符合原因"] = f"{first['名称']}: {first['未通过']}" if first else "金额为 0"
        if speaker is not None:
            result["说明"] = self.words(program, i, rules, speaker)
        return result

    def words(
        self, program: Program, i: int, rules: list[dict[str, Any]], speaker: Speaker
    ) -> dict[str, list[str]]:
        """The decision in plain Chinese (engines/reasons.py): why not, or the amount; parameters; hints."""
        applied = [(c, r) for c, r in zip(program.rules, rules, strict=True) if r["采用"]]
        if not applied:
            if any(r["成立"] for r in rules):
                return {"原因": ["按规则计算的金额为 0 元"], "提示": [], "参数": []}
            reasons, hints, names = speaker.why_not(program.rules, i)
            return {"原因": reasons, "提示": hints, "参数": speaker.parameters(names, i)}
        many = len(program.rules) > 1
        amounts = []
        for c, r in applied:
            text = speaker.amount(c, i, r["金额分"])
            amounts.append((f"{c.title}: " if many and not text.startswith(c.title) else "") + text)
        names = set().union(*(amount_params(self.rulebook, c) for c, _ in applied))
        hints = [h for c, _ in applied for h in speaker.ends(c, i)]
        return {"金额": amounts, "提示": list(dict.fromkeys(hints)), "参数": speaker.parameters(names, i)}

    def rule(
        self, rule: CompiledRule, d: dt.date, row: Row, rows: list[Row], params: Params
    ) -> dict[str, Any]:
        when = rule.when
        joiner = "and" if isinstance(when, E.And) else "or" if isinstance(when, E.Or) else "and"
        items = when.items if isinstance(when, E.And | E.Or) else (when,)
        conditions = [self.condition(item, row, rows, params, expand=True) for item in items]
        holds = bool(self.scalar.value(when, row, rows, params))
        fen = int(self.scalar.value(rule.amount, row, rows, params))
        out: dict[str, Any] = {
            "规则": rule.id,
            "名称": rule.title,
            "条件": E.render(when),
            "连接": joiner,
            "成立": holds,
            "各条件": conditions,
            "参数": [self.param(name, d, row) for name in sorted(rule.params)],
            "金额算式": self.amount_text(rule.amount, fen, row, rows, params),
            "金额分": fen,
        }
        if not holds:
            failed = next((c for c in conditions if not c["成立"]), None)
            if failed is not None:
                inner = next((s for s in failed.get("展开", []) if not s["成立"]), None)
                out["未通过"] = (
                    failed["条件"] + (f"(其中 {inner['条件']} 不成立)" if inner else "") + " 不成立"
                )
            else:
                out["未通过"] = E.render(when) + " 不成立"
        return out

    def condition(
        self, node: E.Node, row: Row, rows: list[Row], params: Params, expand: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "条件": E.render(node),
            "成立": bool(self.scalar.value(node, row, rows, params)),
            "取值": self.operands(node, row, rows, params),
        }
        name = node.item if isinstance(node, E.Not) else node
        if expand and isinstance(name, E.Name) and name.name in self.defs:
            definition = self.defs[name.name]
            out["定义"] = definition.title
            inner = definition.node
            items = inner.items if isinstance(inner, E.And | E.Or) else (inner,)
            out["展开"] = [self.condition(i, row, rows, params, expand=False) for i in items]
        return out

    def operands(self, node: E.Node, row: Row, rows: list[Row], params: Params) -> dict[str, str]:
        """Every field, definition, parameter, lookup and aggregate a condition reads, with its value."""
        seen: dict[str, str] = {}

        def walk(n: E.Node) -> None:
            if isinstance(n, E.Name | E.Lookup | E.Agg):
                text = E.render(n)
                if text not in seen:
                    seen[text] = self.show(n, self.scalar.value(n, row, rows, params))
                if isinstance(n, E.Lookup):
                    walk(n.key)
                return
            for child in _children(n):
                walk(child)

        walk(node)
        return seen

    def show(self, node: E.Node, value: Any) -> str:
        t = self.scalar.type_of(node)
        if isinstance(value, bool):
            return "是" if value else "否"
        if value is None:
            return "空"
        if t is not None and t.kind == "money":
            return fen_text(int(value))
        if t is not None and t.kind == "int" and t.nullable and value == 0:
            return "空"
        return str(value)

    def amount_text(self, node: E.Node, fen: int, row: Row, rows: list[Row], params: Params) -> str:
        if not isinstance(node, E.Arith):
            return f"{E.render(node)} = {fen_text(fen)}"
        return f"{E.render(node)} = {self.substituted(node, row, rows, params)} = {fen_text(fen)}"

    def substituted(self, node: E.Node, row: Row, rows: list[Row], params: Params) -> str:
        """The amount expression with every value put in (money as yuan with 2 decimals)."""
        if isinstance(node, E.Arith):
            left = self.substituted(node.left, row, rows, params)
            right = self.substituted(node.right, row, rows, params)
            if isinstance(node.left, E.Arith) and node.op == "*" and node.left.op != "*":
                left = f"({left})"
            if (
                isinstance(node.right, E.Arith)
                and (node.op == "*" or node.op == "-")
                and node.right.op != "*"
            ):
                right = f"({right})"
            return f"{left} {OPS[node.op]} {right}"
        if isinstance(node, E.Lit):
            return E.render(node)
        return self.show(node, self.scalar.value(node, row, rows, params))

    def param(self, name: str, d: dt.date, row: Row) -> dict[str, str]:
        p = self.rulebook.params[name]
        hit = p.entry_at(d)
        if hit is None:
            return {"参数": name, "说明": p.description, "取值": "(无有效值)"}
        start, entry = hit
        v = entry.value
        if isinstance(v, dict):
            key = row.get(p.key or "")
            shown = (
                f"{key} {fen_text(money.fen(v[key]))}"
                if key in v
                else " / ".join(f"{k} {fen_text(money.fen(x))}" for k, x in v.items())
            )
        else:
            shown = fen_text(money.fen(v))
        return {
            "参数": name,
            "说明": p.description,
            "取值": f"{shown} {p.unit}",
            "生效日期": start.isoformat(),
            "依据": entry.reference,
            "状态": "正式" if p.status_at(d) == "official" else "假定",
        }


def _children(n: E.Node) -> tuple[E.Node, ...]:
    if isinstance(n, E.Compare | E.Arith):
        return (n.left, n.right)
    if isinstance(n, E.InList):
        return (n.item,)
    if isinstance(n, E.And | E.Or):
        return n.items
    if isinstance(n, E.Not):
        return (n.item,)
    return ()


# --- text ---------------------------------------------------------------------------------------------------


def render_text(report: dict[str, Any]) -> str:
    lines = [f"期间 {report['期间']}  规则库 {report['规则库']}  户编号 {report['户编号']}"]
    if "查询人" in report:
        q = report["查询人"]
        lines.append(f"查询人 {q['姓名']}({q['与户主关系']},证件号码 {q['证件号码']})")
    lines.append("成员: " + "、".join(f"{m['姓名']}({m['与户主关系']})" for m in report["成员"]))
    for prog in report["项目"]:
        for date in prog["日期"]:
            for who in date["对象"]:
                lines.append("")
                lines += program_text(prog, date, who)
    return "\n".join(lines) + "\n"


def program_text(prog: dict[str, Any], date: dict[str, Any], who: dict[str, Any]) -> list[str]:
    verdict = f"符合,{who['金额']} 元" if who["符合"] else "不符合"
    out = [
        f"== {prog['名称']}({prog['项目']}) {date['发放月份']}(参考日期 {date['参考日期']})"
        f" {who['姓名']}({who['与户主关系']}): {verdict}"
    ]
    if not who["符合"]:
        out.append(f"  不符合原因: {who['不符合原因']}")
    for r in who["规则"]:
        state = "采用" if r["采用"] else ("成立但未采用" if r["成立"] else "不成立")
        out.append(f"  规则 {r['名称']}({r['规则']}): {state}")
        out.append(f"    条件({r['连接']}): {r['条件']}")
        for c in r["各条件"]:
            out.append(f"      {MARK[c['成立']]} {_cond(c)}")
            for s in c.get("展开", []):
                out.append(f"          {MARK[s['成立']]} {_cond(s)}")
        if r["成立"]:
            for p in r["参数"]:
                out.append(
                    f"    参数 {p['参数']}({p['说明']}) = {p['取值']},自 {p.get('生效日期', '')},"
                    f"依据 {p.get('依据', '')},{p.get('状态', '')}"
                )
            out.append(f"    金额 {r['金额算式']}")
    return out


def _cond(c: dict[str, Any]) -> str:
    values = ", ".join(f"{k} = {v}" for k, v in c["取值"].items())
    title = f" — {c['定义']}" if "定义" in c else ""
    return f"{c['条件']}{title}" + (f"  [{values}]" if values else "")
