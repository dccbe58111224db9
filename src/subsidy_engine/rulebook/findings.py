"""The findings file: the auditor's findings declared as data, checked against the rulebook they audit.

A finding raised by a definition's condition is declared twice on purpose: the definition says which of its
conditions raises it (`finding:`), the findings file says what it is called, which program's money is at risk
and how the evidence reads. Changing the condition in the definition changes what the auditor finds; nothing
about a program, a parameter or a definition is written in the audit's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from subsidy_engine.errors import RulebookError
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook import yamlio
from subsidy_engine.rulebook.files import Finding, FindingsFile, parse_file
from subsidy_engine.rulebook.model import CompiledDefinition, CompiledFinding, Program
from subsidy_engine.rulebook.template import Template, compile_template

LINE_CONTEXT = frozenset({"program", "months", "source"})
MONTHS = frozenset({"months"})


def load_findings(
    path: Path, data: Any, env: T.Env, definitions: list[CompiledDefinition], programs: list[Program]
) -> list[CompiledFinding]:
    ff: FindingsFile = parse_file(FindingsFile, data, path)
    where = str(path)
    program_ids = {p.id for p in programs}
    raised: dict[str, tuple[CompiledDefinition, int]] = {}
    for d in definitions:
        for i, (_, code) in enumerate(d.conjuncts):
            if code is None:
                continue
            if code in raised:
                raise RulebookError(
                    f"发现 {code} 被两个条件引用({raised[code][0].name} 与 {d.name})", file=d.file
                )
            if code not in ff.findings:
                raise RulebookError(
                    f"定义 {d.name} 的条件引用了发现 {code},但 {path.name} 没有声明它", file=d.file
                )
            raised[code] = (d, i)
    out: list[CompiledFinding] = []
    for code, f in ff.findings.items():
        line = yamlio.line_of(data, ("findings", code))

        def fail(msg: str, line: int | None = line, code: str = code) -> RulebookError:
            return RulebookError(msg, file=where, key=f"findings.{code}", line=line)

        for pid in [f.program, f.stacked_with, *(f.lines or [])]:
            if pid is not None and pid not in program_ids:
                raise fail(f"未知的项目 {pid!r}(可选: {', '.join(sorted(program_ids))})")
        try:
            out.append(_compile(code, f, env, raised.get(code), fail))
        except E.ExprError as e:
            raise fail(str(e)) from None
    return out


def _compile(
    code: str, f: Finding, env: T.Env, raised: tuple[CompiledDefinition, int] | None, fail: Any
) -> CompiledFinding:
    def template(text: str | None, context: frozenset[str]) -> Template | None:
        return compile_template(text, env, context) if text is not None else None

    if raised is not None:
        if f.when is not None or f.lines is not None or f.program is None:
            raise fail(
                "由定义的条件引发的发现只写 program(涉及金额的项目)、subject 和 evidence,不写 when 或 lines"
            )
        d, i = raised
        return CompiledFinding(
            code, f.title, "condition", f.program, (), None, f.paid_only,
            template(f.subject, frozenset()), compile_template(f.evidence, env), None, None,
            d.name, tuple(n for j, (n, c) in enumerate(d.conjuncts) if c is None and j != i), d.conjuncts[i][0],
        )  # fmt: skip
    if f.when is None:
        raise fail("发现需要 when(条件),或由某个定义的条件以 finding: 引用")
    when = E.parse(f.when)
    t = T.check(when, env)
    if t.kind != "bool":
        raise fail(f"when 应得到 bool,实为 {t}")
    if f.lines is not None:
        return CompiledFinding(
            code, f.title, "lines", f.program, tuple(f.lines), when, f.paid_only,
            template(f.subject, frozenset()), compile_template(f.evidence, env, LINE_CONTEXT), None, None,
        )  # fmt: skip
    if f.program is None:
        raise fail("关于人员的发现需要 program(涉及金额的项目)")
    return CompiledFinding(
        code, f.title, "person", f.program, (), when, f.paid_only,
        template(f.subject, frozenset()), compile_template(f.evidence, env), f.stacked_with,
        template(f.stacked_evidence, MONTHS),
    )  # fmt: skip
