"""`subsidy rules`: look at a rulebook — check it, the values in force, the coverage of the rule cases, the
handbook (`rules book`) and what changed between two rulebooks or two dates (`rules diff`)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from subsidy_engine.cli.exitcodes import edge
from subsidy_engine.cli.texttable import table as _table
from subsidy_engine.handbook.render import write_book
from subsidy_engine.money import fen, fen_text
from subsidy_engine.rulebook.compare import compare, compare_dates
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.cases import read_case_folder
from subsidy_engine.run.coverage import DEFAULT_CASES, measure, report
from subsidy_engine.run.outdir import check_target


@click.group()
def rules() -> None:
    """规则库:查看与检查。"""


@rules.command("check")
@click.option("--rules", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@edge
def rules_check(folder: Path | None) -> None:
    """加载并检查规则库(未知键、未知字段、类型、决策表缺口)。"""
    rb = load_rulebook(folder)
    lo, hi = rb.coverage()
    n_rules = sum(len(p.rules) for p in rb.programs)
    click.echo(
        f"规则库 {rb.name}: {len(rb.programs)} 个项目, {n_rules} 条规则, {len(rb.params)} 个参数, "
        f"{len(rb.definitions)} 个定义; 覆盖 {lo} 至 {hi}; 内容哈希 {rb.content_hash[:16]}"
    )


@rules.command("show")
@click.option("--rules", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--date", "on", help="日期 YYYY-MM-DD(默认: 规则库覆盖期的第一天)")
@edge
def rules_show(folder: Path | None, on: str | None) -> None:
    """列出某日有效的每个参数:取值、生效日期、依据和状态(正式/假定)。"""
    rb = load_rulebook(folder)
    lo, hi = rb.coverage()
    try:
        day = dt.date.fromisoformat(on) if on else lo
    except ValueError:
        raise click.BadParameter(f"{on!r} 不是 YYYY-MM-DD 日期", param_hint="--date") from None
    click.echo(f"规则库 {rb.name}({rb.title}),{day} 有效的参数;覆盖 {lo} 至 {hi}")
    rows = [["项目", "参数", "说明", "取值(元)", "单位", "生效日期", "状态", "依据"]]
    by_file = {p.file: p.id for p in rb.programs}
    for name, p in rb.params.items():
        hit = p.entry_at(day)
        if hit is None:
            rows.append([by_file.get(p.file, ""), name, p.description, "(无有效值)", p.unit, "", "", ""])
            continue
        start, entry = hit
        v = entry.value
        value = (
            " ".join(f"{k}:{fen_text(fen(x))}" for k, x in v.items())
            if isinstance(v, dict)
            else fen_text(fen(v))
        )
        status = "正式" if p.status_at(day) == "official" else "假定"
        rows.append(
            [by_file.get(p.file, ""), name, p.description, value, p.unit, str(start), status, entry.reference]
        )
    click.echo(_table(rows, right=set()))


@rules.command("coverage")
@click.option("--rules", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--cases",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="规则用例目录(默认: 项目的 tests/rules)",
)
@edge
def rules_coverage(folder: Path | None, cases: Path | None) -> None:
    """用规则用例检查覆盖: 哪些规则发放过、条件真假是否都出现过、决策表的哪些行和参数的哪些期间用过。
    有规则、决策表行或参数期间从未用过时退出码为 1。"""
    rb = load_rulebook(folder)
    where = cases or DEFAULT_CASES
    cov = measure(rb, read_case_folder(where))
    click.echo(report(cov, where), nl=False)
    if cov.gaps():
        sys.exit(1)


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} 不是 YYYY-MM-DD 日期", param_hint=option) from None


@rules.command("book")
@click.option("--rules", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--date", "on", help="标出这一天(YYYY-MM-DD)有效的参数值")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@click.option("--overwrite", is_flag=True, help="输出目录已有文件时整体替换")
@edge
def rules_book(folder: Path | None, on: str | None, out: Path, overwrite: bool) -> None:
    """把规则库写成中文政策手册:handbook.html(单个文件,可打印)和 handbook.md。"""
    day = _date(on, "--date") if on else None
    check_target(out, overwrite=overwrite, parents=False)  # refused before the work, not after it
    paths = write_book(load_rulebook(folder), out, day, overwrite=overwrite)
    for p in paths:
        click.echo(f"已写入 {p}")


@rules.command("diff")
@click.argument("folders", nargs=-1, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--date", "dates", multiple=True, help="与 --rules 同用:比较同一规则库在两个日期的参数(写两次)")
@click.option("--rules", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@edge
def rules_diff(folders: tuple[Path, ...], dates: tuple[str, ...], folder: Path | None) -> None:
    """列出两个规则库(OLD NEW)之间,或同一规则库两个日期(--date A --date B)之间的变化:项目、规则、条件、
    参数及其取值,用规则库自己的中文说法。有变化时退出码为 1。"""
    if dates:
        if len(dates) != 2 or folders:
            raise click.UsageError("按日期比较: --date A --date B(可加 --rules 目录),不再给规则库目录")
        a, b = (_date(d, "--date") for d in dates)
        rb = load_rulebook(folder)
        lines = compare_dates(rb, a, b)
        head = f"规则库 {rb.title}: {a} 与 {b} 有效的参数"
    else:
        if len(folders) != 2 or folder is not None:
            raise click.UsageError("请给出两个规则库目录 OLD NEW,或 --date A --date B")
        old, new = load_rulebook(folders[0]), load_rulebook(folders[1])
        lines = compare(old, new)
        head = f"规则库 {folders[0]}({old.title})→ {folders[1]}({new.title})"
    click.echo(head)
    click.echo("\n".join(lines) if lines else "没有变化")
    if lines:
        sys.exit(1)
