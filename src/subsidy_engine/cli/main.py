"""The `subsidy` command: an edge where errors become messages on stderr and exit codes (table: exitcodes.py).

Exit codes: 0 done; 1 rows rejected (`validate` found problems, or `evaluate --strict`); 2 wrong usage;
3 the roster file cannot be read (format, encoding, header); 4 the rulebook or the period is refused;
5 the output folder cannot be written; 6 a rule produced an impossible result; 7 `evaluate --cross-check`:
the pandas and rete engines disagree (nothing written but the report `<out>.cross-check.csv` beside the output
folder, its path printed on stderr); 70 an internal error (exitcodes.py).
An `--out` is checked before any work: its parent folder must exist (it is never created), a folder must be
new or empty and a file new, unless `--overwrite`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd

from subsidy_engine.cli.audit import register as register_audit_commands
from subsidy_engine.cli.bank import register as register_bank_commands
from subsidy_engine.cli.exitcodes import GuardedGroup, edge
from subsidy_engine.cli.impact import register as register_impact_commands
from subsidy_engine.cli.progress import stage_lines
from subsidy_engine.cli.roster import roster as roster_group
from subsidy_engine.cli.rules import rules as rules_group
from subsidy_engine.cli.service import register as register_service_commands
from subsidy_engine.cli.texttable import table as _table
from subsidy_engine.cli.web import register as register_web_commands
from subsidy_engine.engines.explain import Explainer, named, render_text, select
from subsidy_engine.engines.plain import render_plain
from subsidy_engine.errors import (
    CrossCheckError,
    OutputError,
)
from subsidy_engine.impact.reform import apply_edits, parse_edit
from subsidy_engine.periods import parse_period
from subsidy_engine.privacy import mask_cell, mask_id
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import REJECT_COLUMNS
from subsidy_engine.roster.validate import validate as check
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.outdir import atomic_file, check_target, os_errors, stem
from subsidy_engine.run.output import FORMATS, write_csv, write_run
from subsidy_engine.run.pipeline import evaluate_file
from subsidy_engine.version import __version__

if TYPE_CHECKING:
    from subsidy_engine.engines.dask.engine import DaskOptions


@click.group(cls=GuardedGroup)
@click.version_option(__version__, prog_name="subsidy")
def main() -> None:
    """subsidy-engine: 困难群众救助与惠民补贴资格计算。"""


@main.command()
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", required=True, help="期间:年份 2023 或月份 2023-09")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录"
)
@click.option("--rules", type=click.Path(file_okay=False, exists=True, path_type=Path), help="规则库目录")
@click.option("--format", "formats", default="csv", show_default=True, help="发放名单格式: csv,xlsx,parquet")
@click.option("--strict", is_flag=True, help="有任何被拒绝的行就失败(不生成发放名单)")
@click.option("--overwrite", is_flag=True, help="输出目录已有文件时整体替换")
@click.option("--progress/--no-progress", default=None, help="显示进度(默认: 终端上显示)")
@click.option(
    "--engine",
    type=click.Choice(["pandas", "rete", "dask"]),
    default="pandas",
    show_default=True,
    help="计算引擎: pandas(向量化)、rete(durable-rules,多进程)或 dask(按户分区,dask.distributed)",
)
@click.option("--workers", type=int, help="--engine dask: 本机集群的工作进程数(默认 2)")
@click.option("--memory-limit", help="--engine dask: 每个工作进程的内存上限(默认 3GB)")
@click.option("--scheduler", metavar="ADDRESS", help="--engine dask: 连接这个调度器的集群,不启动本机集群")
@click.option("--partitions", type=int, help="--engine dask: 按户编号重新分区后的分区数(默认每约20万行一个)")
@click.option(
    "--stream", is_flag=True, help="--engine dask: 发放名单由各分区直接写成 payments/part-*.parquet(超大名册)"
)
@click.option(
    "--cross-check", is_flag=True, help="两个引擎都算,结果有任何不同即失败(差异写入 <out>.cross-check.csv)"
)
@click.option("--publish", "publish_list", is_flag=True, help="同时写出公示名单 publish/(证件号码脱敏)")
@edge
def evaluate(
    roster: Path,
    period: str,
    out: Path,
    rules: Path | None,
    formats: str,
    strict: bool,
    overwrite: bool,
    progress: bool | None,
    engine: str,
    cross_check: bool,
    publish_list: bool,
    workers: int | None,
    memory_limit: str | None,
    scheduler: str | None,
    partitions: int | None,
    stream: bool,
) -> None:
    """按规则库计算 ROSTER 在 PERIOD 的发放名单、汇总、拒绝行和清单。"""
    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise click.BadParameter(
            f"不支持的格式 {', '.join(bad)}(可选: {', '.join(FORMATS)})", param_hint="--format"
        )
    show = sys.stderr.isatty() if progress is None else progress
    report = stage_lines(show)
    dask_options = _dask_options(engine, workers, memory_limit, scheduler, partitions, show)
    if engine == "dask" and cross_check:
        raise click.UsageError("--cross-check 比较 pandas 与 rete 两个引擎,不与 --engine dask 同用")
    if stream and (engine != "dask" or formats != "csv" or publish_list):
        raise click.UsageError("--stream 只用于 --engine dask,且不与 --format、--publish 同用")
    check_target(out, overwrite=overwrite, parents=False)  # refused before the work, not after it
    try:
        if stream:
            from subsidy_engine.engines.dask.run import evaluate_stream  # late: start-up, dask

            result, _ = evaluate_stream(
                roster,
                period,
                out,
                rules,
                strict=strict,
                overwrite=overwrite,
                options=dask_options,
                progress=report,
            )
        else:
            result = evaluate_file(
                roster,
                period,
                rules,
                strict=strict,
                engine=engine,
                cross_check=cross_check,
                progress=report,
                dask=dask_options,
            )
    except CrossCheckError as e:
        _write_cross_check_report(e, out)
        raise
    if report and not stream:
        report("write", 0, 1)
    if not stream:
        write_run(result, out, fmts, overwrite=overwrite, publish=publish_list)
    v = result.validated
    click.echo(
        f"期间 {result.period.label}  规则库 {result.rulebook.name}  读入 {v.rows_read} 行:"
        f"采用 {v.rows_accepted} 行,拒绝 {v.rows_rejected} 行"
    )
    if result.cross_check is not None:
        click.echo(f"两个引擎结果一致: {result.cross_check['lines']} 条")
    click.echo(_totals_text(result.totals))
    assumed = sorted(set().union(*result.assumed.values())) if result.assumed else []
    if assumed:
        click.echo("以下结果依赖假定参数(非正式公布值): " + "、".join(assumed))
    click.echo(f"已写入 {out}")


def _write_cross_check_report(e: CrossCheckError, out: Path) -> None:
    """`<out>.cross-check.csv` beside the output folder (replaced if there); if it cannot be written, say so
    and still fail with the cross-check's exit code."""
    path = out.parent / f"{stem(out.name)}.cross-check.csv"
    try:
        with atomic_file(path, overwrite=True, parents=False) as tmp, os_errors(path):
            write_csv(e.report, tmp)
    except OutputError as err:
        click.echo(f"交叉核对差异未能写出: {err}", err=True)
        return
    click.echo(f"交叉核对差异已写入 {path}", err=True)


def _dask_options(
    engine: str,
    workers: int | None,
    memory_limit: str | None,
    scheduler: str | None,
    partitions: int | None,
    show: bool,
) -> DaskOptions | None:
    options = {"--workers": workers, "--memory-limit": memory_limit, "--scheduler": scheduler}
    given = [name for name, v in {**options, "--partitions": partitions}.items() if v is not None]
    if engine != "dask":
        if given:
            raise click.UsageError(f"{'、'.join(given)} 只用于 --engine dask")
        return None
    from subsidy_engine.engines.dask.engine import DaskOptions  # late: start-up, dask

    if (workers is not None and workers < 1) or (partitions is not None and partitions < 1):
        raise click.UsageError("--workers 和 --partitions 至少为 1")
    return DaskOptions(
        workers=workers or 2,
        memory_limit=memory_limit or "3GB",
        scheduler=scheduler,
        partitions=partitions,
        verbose=show,
    )


def _totals_text(totals: pd.DataFrame) -> str:
    top = totals[(totals["规则"] == "") & (totals["乡镇"] == "")]
    rows = [["项目", "名称", "人数", "人次", "金额(元)"]]
    for _, r in top.iterrows():
        rows.append([r["项目"] or "合计", r["项目名称"], str(r["人数"]), str(r["人次"]), r["金额"]])
    return _table(rows, right={2, 3, 4})


@main.command()
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="把拒绝行写入这个 CSV 文件")
@click.option("--overwrite", is_flag=True, help="--out 文件已存在时替换它")
@click.option("--limit", default=20, show_default=True, help="最多显示多少条问题")
@edge
def validate(roster: Path, out: Path | None, overwrite: bool, limit: int) -> None:
    """只校验名册:列出每一条问题(行号、列、值、原因)。有被拒绝的行时退出码为 1。"""
    if out is not None:
        check_target(out, overwrite=overwrite, folder=False, parents=False)
    v = check(read_roster(roster))
    click.echo(
        f"读入 {v.rows_read} 行({v.households_accepted + v.households_rejected} 户):"
        f"采用 {v.rows_accepted} 行,拒绝 {v.rows_rejected} 行({v.households_rejected} 户),"
        f"问题 {len(v.rejects)} 条"
    )
    if len(v.rejects):
        shown = v.rejects.head(limit)
        rows = [["行号", "列", "值", "原因代码", "说明"]]
        rows += [
            [str(r["行号"]), r["列"], mask_cell(r["列"], r["值"]), r["原因代码"], r["说明"]]
            for _, r in shown.iterrows()
        ]
        click.echo(_table(rows, right={0}))
        if len(v.rejects) > limit:
            click.echo(f"……另有 {len(v.rejects) - limit} 条,用 --out 写出全部")
    if out is not None:
        with atomic_file(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
            write_csv(v.rejects[REJECT_COLUMNS], tmp)
        click.echo(f"已写入 {out}")
    if v.rows_rejected:
        sys.exit(1)


@main.command()
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", required=True, help="期间:年份 2023 或月份 2023-09")
@click.option("--person", help="证件号码:解释这个人(及其户的按户项目)")
@click.option("--household", help="户编号:解释这一户的每个成员")
@click.option("--name", help="姓名:按姓名查找(同名多人时列出供选择)")
@click.option("--detail", is_flag=True, help="显示详细计算过程(每个条件的取值、参数和算式)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON(供程序读取)")
@click.option("--rules", type=click.Path(file_okay=False, exists=True, path_type=Path), help="规则库目录")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME[KEY]=VALUE@DATE",
    help="按 subsidy impact 的测算参数解释(同 impact --set,可多个)",
)
@edge
def explain(
    roster: Path,
    period: str,
    person: str | None,
    household: str | None,
    name: str | None,
    detail: bool,
    as_json: bool,
    rules: Path | None,
    sets: tuple[str, ...],
) -> None:
    """逐项目说明享受与否:多少钱、哪些月份、不享受的原因、怎么算、依据的标准;--detail 显示详细计算过程。"""
    if sum(x is not None for x in (person, household, name)) != 1:
        raise click.UsageError("请给出 --person 证件号码、--household 户编号 或 --name 姓名(三选一)")
    rb = load_rulebook(rules)
    per = parse_period(period)
    rb.check_period(per)
    if sets:
        rb = apply_edits(rb, [parse_edit(s) for s in sets], per)
    persons = check(read_roster(roster)).persons
    if name is not None:
        person = _one_by_name(named(persons, name), name)
    members, asked = select(persons, person=person, household=household)
    if len(members) == 0:
        what = f"证件号码 {person}" if person is not None else f"户编号 {household}"
        raise click.BadParameter(f"名册的有效行中没有 {what}(不存在或所在户被拒绝)")
    report = Explainer(rb).explain(members, per, asked)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo((render_text if detail else render_plain)(report), nl=False)


def _one_by_name(hits: list[dict[str, str]], name: str) -> str:
    """The 证件号码 of the one person called `name`; none or several is a usage error that lists them masked."""
    if not hits:
        raise click.BadParameter(
            f"名册的有效行中没有姓名为 {name} 的人(不存在或所在户被拒绝)", param_hint="--name"
        )
    if len(hits) > 1:
        rows = [["证件号码", "户编号", "行政村", "与户主关系"]]
        rows += [[mask_id(h["证件号码"]), h["户编号"], h["行政村"], h["与户主关系"]] for h in hits]
        raise click.UsageError(
            f"名册中有 {len(hits)} 人姓名为 {name},请改用 --household 户编号 或 --person 证件号码 指定其中一人:\n"
            + _table(rows, right=set())
        )
    return hits[0]["证件号码"]


main.add_command(rules_group)
main.add_command(roster_group)
register_audit_commands(main)
register_impact_commands(main)
register_bank_commands(main)
register_web_commands(main)
register_service_commands(main)

if __name__ == "__main__":  # pragma: no cover
    main()
