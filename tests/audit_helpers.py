"""Shared helpers for the auditor's-toolkit tests: the CLI group with the audit commands, small payment files."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from subsidy_engine.cli import main
from subsidy_engine.cli_audit import register

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "fixtures" / "small"
SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"

register(main)
register(main)  # idempotent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


PAID_HEADER = "发放月份,项目,户编号,证件号码,姓名,乡镇,行政村,金额\n"


def paid_lines(*lines: str) -> str:
    return PAID_HEADER + "".join(line + "\n" for line in lines)
