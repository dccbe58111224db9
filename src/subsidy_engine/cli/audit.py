"""The auditor's commands: `subsidy rerun`, `diff`, `audit`, `publish`; `register(main)` adds them to the group.

Exit codes (exitcodes.py): 0 done (rerun: identical; diff: the lists agree; audit: nothing found); 1 rerun outputs
differ / diff found differences / audit has findings (or, with --paid, differences); 2 wrong usage; 3 a file
cannot be read (roster, manifest, payment list, a folder that is not a run); 4 the rulebook or period is
refused; 5 an output cannot be written; 6 a rule produced an impossible result; 70 an internal error. Every
output folder or file follows evaluate's rules (outdir.py): its parent must exist, it must be new or empty
unless --overwrite, it appears whole or not at all. Full 证件号码 are never printed: the terminal shows them
masked; the files written for auditors keep them whole.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from subsidy_engine.audit.diff import diff_files, diff_sheets, diff_text, write_diff
from subsidy_engine.audit.findings import audit_full, finding_titles, write_workbook
from subsidy_engine.audit.publish import publish
from subsidy_engine.audit.rerun import rerun
from subsidy_engine.audit.workbook import write_sheets
from subsidy_engine.cli.exitcodes import edge
from subsidy_engine.cli.texttable import table
from subsidy_engine.money import fen, fen_text
from subsidy_engine.roster.read import read_roster
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.run.outdir import atomic_file, atomic_folder, check_target, os_errors
from subsidy_engine.run.output import write_csv


@click.command("rerun")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--roster", type=click.Path(dir_okay=False, path_type=Path), help="用这个名册代替清单记录的名册"
)
@click.option("--rules", type=click.Path(file_okay=False, exists=True, path_type=Path), help="规则库目录")
@edge
def rerun_cmd(manifest: Path, roster: Path | None, rules: Path | None) -> None:
    """按 MANIFEST 记录的名册、规则库和期间重新计算,逐字节比对每个输出;不同则说明原因(退出码 1)。"""
    report = rerun(manifest, roster, rules)
    click.echo(report.text())
    if not report.identical:
        sys.exit(1)


@click.command("diff")
@click.argument("paid", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("computed", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="把 diff.csv 写入这个目录")
@click.option(
    "--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="把差异工作簿写到这个 .xlsx 文件"
)
@click.option("--limit", default=20, show_default=True, help="最多显示多少笔差异")
@click.option("--overwrite", is_flag=True, help="--out 目录已有文件或 --xlsx 文件已存在时替换")
@edge
def diff_cmd(
    paid: Path, computed: Path, out: Path | None, xlsx: Path | None, limit: int, overwrite: bool
) -> None:
    """比对实发名单 PAID 与应发名单 COMPUTED:应发未发、不应发而发、超标准、少发。有差异时退出码为 1。"""
    if out is not None:
        check_target(out, overwrite=overwrite, parents=False)
    if xlsx is not None:
        check_target(xlsx, overwrite=overwrite, folder=False, parents=False)
    result = diff_files(paid, computed)
    click.echo(diff_text(result, limit))
    written: list[Path] = []
    if out is not None:
        with atomic_folder(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
            written += [out / p.name for p in write_diff(result, tmp)]
    if xlsx is not None:
        with atomic_file(xlsx, overwrite=overwrite, parents=False) as tmp, os_errors(xlsx):
            write_sheets(tmp, diff_sheets(result))
        written.append(xlsx)
    for p in written:
        click.echo(f"已写入 {p}")
    if not result.agree:
        sys.exit(1)


@click.command("audit")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", required=True, help="期间:年份 2023 或月份 2023-09")
@click.option("--paid", type=click.Path(dir_okay=False, path_type=Path), help="实际发放名单(.csv / .xlsx)")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@click.option("--rules", type=click.Path(file_okay=False, exists=True, path_type=Path), help="规则库目录")
@click.option("--overwrite", is_flag=True, help="输出目录已有文件时整体替换")
@edge
def audit_cmd(
    roster: Path, period: str, paid: Path | None, out: Path, rules: Path | None, overwrite: bool
) -> None:
    """审计 ROSTER:核查发现(代码、人员、证据、涉及金额),写出 findings.csv 与 audit.xlsx(有 --paid 时另写
    diff.csv)。有发现(或与实发名单有差异)时退出码为 1。"""
    check_target(out, overwrite=overwrite, parents=False)
    rb = load_rulebook(rules)
    res = audit_full(read_roster(roster), period, rb, paid)
    f = res.findings
    with atomic_folder(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
        write_csv(f, tmp / "findings.csv")
        names = ["findings.csv"]
        if res.diff is not None:
            names += [p.name for p in write_diff(res.diff, tmp)]
        names.append(write_workbook(res, tmp / "audit.xlsx").name)
    written = [out / n for n in names]
    rows = [["代码", "标题", "条数", "涉及金额(元)"]]
    for code, title in finding_titles(res.run.rulebook).items():
        part = f[f["代码"] == code]
        if len(part):
            rows.append([code, title, str(len(part)), fen_text(sum(fen(v) for v in part["涉及金额"]))])
    click.echo(f"期间 {res.run.period.label}  发现 {len(f)} 条")
    if len(rows) > 1:
        click.echo(table(rows, right={2, 3}))
    for p in written:
        click.echo(f"已写入 {p}")
    if len(f) or (res.diff is not None and not res.diff.agree):
        sys.exit(1)


@click.command("publish")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--overwrite", is_flag=True, help="RUN_DIR/publish/ 已有文件时整体替换")
@edge
def publish_cmd(run_dir: Path, overwrite: bool) -> None:
    """在 RUN_DIR/publish/ 写出公示用的发放名单与汇总(证件号码打码,不含死亡日期、残疾和收入信息)。"""
    for p in publish(run_dir, overwrite=overwrite):
        click.echo(f"已写入 {p}")


COMMANDS = (rerun_cmd, diff_cmd, audit_cmd, publish_cmd)


def register(group: click.Group) -> click.Group:
    """Add rerun, diff, audit and publish to `group` (idempotent: a second call replaces them by name)."""
    for cmd in COMMANDS:
        group.add_command(cmd)
    return group
