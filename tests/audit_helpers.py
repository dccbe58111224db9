"""Shared helpers for the auditor's-toolkit tests: fixture paths and small paid payment lists."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "fixtures" / "small"
SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"


PAID_HEADER = "发放月份,项目,户编号,证件号码,姓名,乡镇,行政村,金额\n"


def paid_lines(*lines: str) -> str:
    return PAID_HEADER + "".join(line + "\n" for line in lines)
