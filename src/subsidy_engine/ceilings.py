"""The largest amount a roster money cell may hold (a setting): above it a cell is a reject, never a total.

`SUBSIDY_MAX_AMOUNT_YUAN` (whole yuan, default 10^8) sets it; it may not exceed 10^15 yuan, so that a cell in
fen, and the sum of a million such cells, stays far inside a signed 64-bit integer.
"""

from __future__ import annotations

import os

from subsidy_engine.errors import InputError

ENV = "SUBSIDY_MAX_AMOUNT_YUAN"
DEFAULT_YUAN = 10**8
HIGHEST_YUAN = 10**15


def max_amount_fen() -> int:
    """The ceiling in fen, read from the environment on each call (a run reads it once per money column)."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_YUAN * 100
    if not (text.isascii() and text.isdigit() and len(text) <= 16) or not 1 <= int(text) <= HIGHEST_YUAN:
        raise InputError(f"设置 {ENV}={text[:40]!r} 无效:应为 1 到 {HIGHEST_YUAN} 之间的整数(元)")
    return int(text) * 100
