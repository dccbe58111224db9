"""`subsidy impact`: what a change of parameters (or a drafted rulebook) would pay, against the baseline.

Exit codes (exitcodes.py): 0 done; 2 wrong usage; 3 the roster cannot be read; 4 the rulebook, the period or a
`--set` is refused (unknown parameter or key, a date outside the period, a value that is not money); 5 the
output folder cannot be written; 6 a rule produced an impossible result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from subsidy_engine.cli.exitcodes import edge
from subsidy_engine.cli.progress import stage_lines
from subsidy_engine.cli.texttable import table
from subsidy_engine.impact.output import FORMATS, write_impact
from subsidy_engine.impact.run import ImpactRun, impact_file
from subsidy_engine.run.outdir import check_target


@click.command("impact")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", required=True, help="期间:年份 2024 或月份 2024-09")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录"
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME[KEY]=VALUE@DATE",
    help="自 DATE 起(期间内)把参数改为 VALUE 元;决策表写出键,如 dibao_standard[农村]=650@2024-09-01。可多个",
)
@click.option(
    "--rules-b",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="测算用的第二个规则库目录(如起草中的通知),代替 --set",
)
@click.option("--rules", type=click.Path(file_okay=False, exists=True, path_type=Path), help="基线规则库目录")
@click.option(
    "--format",
    "formats",
    default="csv,xlsx",
    show_default=True,
    help="csv(只写 CSV)或 csv,xlsx(另写 impact.xlsx,大名册上较慢)",
)
@click.option("--overwrite", is_flag=True, help="输出目录已有文件时整体替换")
@click.option("--progress/--no-progress", default=None, help="显示进度(默认: 终端上显示)")
@edge
def impact_cmd(
    roster: Path,
    period: str,
    out: Path,
    sets: tuple[str, ...],
    rules_b: Path | None,
    rules: Path | None,
    formats: str,
    overwrite: bool,
    progress: bool | None,
) -> None:
    """测算:同一名册在基线规则与改动后的参数(或第二个规则库)下各算一次,写出按项目、按村、按户的增减和逐笔变动。"""
    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise click.BadParameter(
            f"不支持的格式 {', '.join(bad)}(可选: {', '.join(FORMATS)})", param_hint="--format"
        )
    if bool(sets) == (rules_b is not None):
        raise click.UsageError("请给出 --set 参数=金额@日期(可多个)或 --rules-b 规则库目录,二者选一")
    check_target(out, overwrite=overwrite, parents=False)  # refused before the work, not after it
    report = stage_lines(sys.stderr.isatty() if progress is None else progress)
    run = impact_file(roster, period, list(sets), rules=rules, rules_b=rules_b, progress=report)
    if report:
        report("write", 0, 1)
    write_impact(run, out, fmts, overwrite=overwrite)
    v = run.validated
    click.echo(
        f"期间 {run.period.label}  基线规则库 {run.baseline.name}  读入 {v.rows_read} 行:"
        f"采用 {v.rows_accepted} 行,拒绝 {v.rows_rejected} 行"
    )
    if run.edits:
        click.echo("测算: " + "  ".join(e.text for e in run.edits))
    else:
        click.echo(f"测算: 规则库 {run.reform.name}({run.reform_folder})")
    click.echo(summary_text(run))
    click.echo(f"已写入 {out}")


def summary_text(run: ImpactRun) -> str:
    """The summary table, the households by kind of change and the distribution of their monthly gains."""
    i = run.impact
    rows = [["项目", "名称", "基线人次", "测算人次", "基线金额(元)", "测算金额(元)", "差额(元)"]]
    for r in i.summary.itertuples(index=False):
        rows.append([r[0] or "合计", r[1], str(r[2]), str(r[3]), r[4], r[5], r[6]])
    c = i.counts
    lines = [
        table(rows, right={2, 3, 4, 5, 6}),
        f"金额有变化的户 {len(i.households)} 户: 增加 {c['增加']} 户,减少 {c['减少']} 户,"
        f"新纳入 {c['新纳入']} 户,退出 {c['退出']} 户",
    ]
    if len(i.gains):
        lines.append("增加的户(含新纳入)按月均增加金额分布(月均 = 差额 ÷ 金额有变化的发放月数):")
        bands = [["月均增加(元)", "户数"]] + [[str(a), str(b)] for a, b in i.gains.itertuples(index=False)]
        lines.append(table(bands, right={1}))
    return "\n".join(lines)


COMMANDS = (impact_cmd,)


def register(group: click.Group) -> click.Group:
    """Add impact to `group`."""
    for cmd in COMMANDS:
        group.add_command(cmd)
    return group
