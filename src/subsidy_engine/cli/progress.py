"""Stage lines on stderr for the long commands (evaluate, impact): 读取名册 / 校验名册 / 计算 i/n / 写出结果."""

from __future__ import annotations

import time
from collections.abc import Callable

import click

LABELS = {"read": "读取名册", "validate": "校验名册", "evaluate": "计算", "write": "写出结果"}


def stage_lines(enabled: bool) -> Callable[[str, int, int], None] | None:
    """A progress callback printing each stage with the seconds elapsed, or None when not `enabled`."""
    if not enabled:
        return None
    start = time.perf_counter()

    def report(stage: str, i: int, total: int) -> None:
        step = f" {i}/{total}" if stage == "evaluate" else ""
        click.echo(f"[{time.perf_counter() - start:6.1f}s] {LABELS.get(stage, stage)}{step}", err=True)

    return report
