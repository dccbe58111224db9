"""The office's bank commands: `subsidy bank export` and `subsidy bank reconcile`; `register(main)` adds them.

Exit codes (exitcodes.py): 0 done (export: lines held back for their account are counted, not a failure;
reconcile: the return agrees with the batch); 1 reconcile found errors (a line returned that was never sent, the
same line twice, another account or amount, an unknown status, a line sent but not returned), the files are
written; 2 wrong usage; 3 an input cannot be read (run folder, roster changed since the run, layout, return file,
reconciliation folder); 5 an output cannot be written. 证件号码 are masked on the terminal; the bank file
holds them whole (the bank needs them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from subsidy_engine.cli.exitcodes import edge
from subsidy_engine.cli.texttable import table
from subsidy_engine.money import fen_text
from subsidy_engine.release.accounts import REASONS
from subsidy_engine.release.bank import export, prepare, settle
from subsidy_engine.release.bankfile import SUFFIXES, held_path
from subsidy_engine.release.layout import ENCODINGS, load_layout
from subsidy_engine.run.outdir import check_target

_common = [
    click.option(
        "--layout",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="代发文件格式(YAML,默认为随程序提供的格式)",
    ),
    click.option(
        "--roster",
        type=click.Path(dir_okay=False, path_type=Path),
        help="计算所用的名册(默认为 manifest.json 记录的路径;须与计算时相同)",
    ),
    click.option(
        "--reissue",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="只补发这个对账目录中失败和暂缓的行",
    ),
    click.option("--overwrite", is_flag=True, help="输出已存在时替换"),
]


def _options(fn):  # type: ignore[no-untyped-def]
    for option in reversed(_common):
        fn = option(fn)
    return fn


@click.group("bank")
def bank() -> None:
    """代发:从运行目录导出银行代发文件,核对银行回盘。"""


@bank.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="代发文件(.csv 或 .xlsx)"
)
@click.option("--encoding", type=click.Choice(list(ENCODINGS)), help="CSV 编码(默认按格式文件:UTF-8 带 BOM)")
@_options
@edge
def export_cmd(
    run_dir: Path,
    out: Path,
    encoding: str | None,
    layout: Path | None,
    roster: Path | None,
    reissue: Path | None,
    overwrite: bool,
) -> None:
    """写出 RUN_DIR 的代发批次:批次号、每人每月每项目一笔(序号、姓名、证件号码、代发账号、开户银行、金额、
    项目名称、摘要)和控制行(笔数、总金额);代发账号缺失或有误的行暂缓,另写到 <文件名>-待补账号.csv。"""
    if out.suffix.lower() not in SUFFIXES:
        raise click.BadParameter(f"{out.name}: 代发文件应为 .csv 或 .xlsx", param_hint="--out")
    if encoding and out.suffix.lower() == ".xlsx":
        raise click.UsageError("--encoding 只用于 CSV 代发文件")
    for target in (out, held_path(out)):  # refused before the work, not after it
        check_target(target, overwrite=overwrite, folder=False, parents=False)
    lay = load_layout(layout)
    prepared = prepare(run_dir, lay, roster=roster, reissue=reissue)
    b = prepared.batch
    bank_file, held = export(b, lay, out, encoding=encoding, overwrite=overwrite)
    what = f",补发批次 {b.reissue_of} 未成功的行" if b.reissue_of else ""
    click.echo(f"批次号 {b.number}(期间 {b.run.period}{what})")
    click.echo(f"导出 {len(b.lines)} 笔,合计 {fen_text(b.total_fen)} 元")
    if b.held:
        click.echo(f"暂缓 {len(b.held)} 笔,合计 {fen_text(b.held_fen)} 元:代发账号缺失或有误,未写入代发文件")
        by: dict[str, list[int]] = {}
        for line in b.held:
            n = by.setdefault(line.payee.check.code, [0, 0])
            n[0] += 1
            n[1] += line.fen

        rows = [["原因代码", "说明", "笔数", "金额(元)"]]
        rows += [[code, REASONS[code], str(n), fen_text(f)] for code, (n, f) in sorted(by.items())]
        click.echo(table(rows, right={2, 3}))
    if prepared.same_account:
        click.echo(f"注意:{prepared.same_account} 笔补发行的代发账号与上次失败时相同")
    click.echo(f"已写入 {bank_file}")
    click.echo(f"已写入 {held}")


@bank.command("reconcile")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("return_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="对账结果目录")
@click.option("--limit", default=20, show_default=True, help="最多显示多少条错误")
@_options
@edge
def reconcile_cmd(
    run_dir: Path,
    return_file: Path,
    out: Path,
    limit: int,
    layout: Path | None,
    roster: Path | None,
    reissue: Path | None,
    overwrite: bool,
) -> None:
    """核对银行回盘 RETURN_FILE 与 RUN_DIR 的代发批次(按序号匹配,核对代发账号和金额),写出 paid.csv(已发放,
    发放名单格式)、failed.csv、held.csv、errors.csv 和 summary.json。回盘有错误时退出码为 1。"""
    check_target(out, overwrite=overwrite, parents=False)
    lay = load_layout(layout)
    prepared = prepare(run_dir, lay, roster=roster, reissue=reissue)
    rec, written = settle(prepared, lay, return_file, out, overwrite=overwrite)
    b = rec.batch

    def row(label: str, lines: list, fen: int | None = None) -> list[str]:  # type: ignore[type-arg]
        total = sum(x.fen for x in lines) if fen is None else fen
        return [label, str(len(lines)), fen_text(total)]

    click.echo(f"批次号 {b.number}(期间 {b.run.period})")
    rows = [
        ["", "笔数", "金额(元)"],
        row("发送", b.lines),
        row("成功", rec.paid),
        row("失败", [line for line, _ in rec.failed]),
        row("待查(回盘有误或未回盘)", rec.unresolved),
        row("暂缓(缺少或错误的代发账号,未发送)", b.held),
    ]
    click.echo(table(rows, right={1, 2}))
    if rec.errors:
        click.echo(f"回盘错误 {len(rec.errors)} 条:")
        for e in rec.errors[:limit]:
            click.echo(f"  {e.code}  {e.message}")
        if len(rec.errors) > limit:
            click.echo(f"  ……另有 {len(rec.errors) - limit} 条,见 errors.csv")
    for p in written:
        click.echo(f"已写入 {p}")
    if rec.errors:
        sys.exit(1)


def register(group: click.Group) -> click.Group:
    """Add the `bank` group (export, reconcile) to `group`."""
    group.add_command(bank)
    return group
