"""`subsidy roster`: the roster template an office fills in (`roster template --out FILE.xlsx`)."""

from __future__ import annotations

from pathlib import Path

import click

from subsidy_engine.cli.exitcodes import edge
from subsidy_engine.roster.template import write_template


@click.group()
def roster() -> None:
    """名册:空白模板。"""


@roster.command("template")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="写出的 .xlsx 文件"
)
@click.option("--overwrite", is_flag=True, help="--out 文件已存在时替换它")
@edge
def roster_template(out: Path, overwrite: bool) -> None:
    """写出名册模板 .xlsx:各列中文表头(批注说明)、下拉选项、证件号码等列为文本格式,另附“填写说明”工作表。"""
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("模板是 Excel 工作簿,文件名应以 .xlsx 结尾", param_hint="--out")
    write_template(out, overwrite=overwrite)
    click.echo(f"已写入 {out}")
