"""Payout accounts (代发账号): the check of a card number, and each payee's account read from the run's roster.

An account is 16–19 digits whose last digit is the Luhn check digit (the rule of every 社保卡 and bank card
number). Spaces between groups of digits (`6217 0000 …`, as printed on a card) are dropped; anything else that is
not a digit is refused. A problem with an account never rejects a roster row: it holds the payee's lines back
from the bank file, with the reason, for the caseworker to correct in the roster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from subsidy_engine.errors import InputError
from subsidy_engine.roster import cells
from subsidy_engine.roster.read import ROW, read_roster
from subsidy_engine.roster.validate import validate

MIN_DIGITS, MAX_DIGITS = 16, 19
GROUP_SPACES = re.compile(r"[ \u3000\u00a0]+")

REASONS = {
    "ACCOUNT_MISSING": "缺代发账号",
    "ACCOUNT_NUMBER_CELL": "代发账号是数字单元格",
    "ACCOUNT_NOT_DIGITS": "代发账号含数字以外的字符",
    "ACCOUNT_LENGTH": "代发账号位数不对",
    "ACCOUNT_CHECK_DIGIT": "代发账号校验位错误",
}


class RosterChangedError(InputError):
    """The roster of a run folder is gone or is no longer the file the run was computed from."""


def luhn_ok(digits: str) -> bool:
    """Whether the last digit is the Luhn check digit of the others."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_digit(body: str) -> str:
    """The check digit that makes `body + digit` pass the Luhn check."""
    return next(d for d in "0123456789" if luhn_ok(body + d))


@dataclass(frozen=True)
class AccountCheck:
    account: str  # the digits to pay into ('' when the account cannot be used)
    code: str  # '' when fine, else a key of REASONS
    message: str = ""


def check_account(cell: object) -> AccountCheck:
    """The account in one roster cell (text, or a typed spreadsheet/Parquet cell), or why it cannot be used."""
    if cells.is_blank(cell):
        return AccountCheck("", "ACCOUNT_MISSING", "代发账号为空:请在名册中填写本人的社保卡或银行卡号")
    if isinstance(cell, float | np.floating):
        return AccountCheck(
            "",
            "ACCOUNT_NUMBER_CELL",
            "代发账号存成了数字单元格,表格软件只保留 15 位有效数字,后几位已丢失:请把该列设为文本后重新填写",
        )
    text = GROUP_SPACES.sub("", cells.ascii_width(cells.as_text(cell)))
    if not text.isascii() or not text.isdigit():
        return AccountCheck("", "ACCOUNT_NOT_DIGITS", "代发账号只能是数字(数字之间的空格可以)")
    if not MIN_DIGITS <= len(text) <= MAX_DIGITS:
        return AccountCheck(
            "", "ACCOUNT_LENGTH", f"代发账号有 {len(text)} 位,应为 {MIN_DIGITS}–{MAX_DIGITS} 位"
        )
    if not luhn_ok(text):
        return AccountCheck("", "ACCOUNT_CHECK_DIGIT", "代发账号校验位错误(Luhn),请对照卡片核对")
    return AccountCheck(text, "")


@dataclass(frozen=True)
class PayeeAccount:
    """A payee's row of the roster: where the money goes, or why it cannot go yet."""

    row: int  # the roster row (header = row 1)
    household_id: str
    name: str
    written: str  # the 代发账号 cell as written (for the caseworker's list)
    bank: str
    check: AccountCheck


def roster_accounts(roster: Path, expected_sha256: str, ids: Iterable[str]) -> dict[str, PayeeAccount]:
    """The account of each 证件号码 in `ids` from the accepted rows of `roster`, which must be the very file
    the run was computed from (same sha256); a 证件号码 not among the accepted rows is left out."""
    raw = read_roster(roster)
    if expected_sha256 and raw.sha256 != expected_sha256:
        raise RosterChangedError(
            f"{roster}: 名册已改变(sha256 {raw.sha256[:12]}…,计算时为 {expected_sha256[:12]}…);"
            "代发账号必须来自计算所用的名册:改过名册请重新计算,再从新的运行目录导出",
            path=str(roster),
        )
    persons = validate(raw).persons
    wanted = set(ids)
    persons = persons[persons["id_number"].isin(wanted)]
    frame = raw.frame
    typed = {  # rows whose account cell is not text (a spreadsheet or Parquet number): checked as such
        int(r): v
        for r, v in zip(frame[ROW].to_numpy(), frame["payout_account"].to_numpy(dtype=object), strict=True)
        if v is not None and not isinstance(v, str)
    }
    out: dict[str, PayeeAccount] = {}
    for pid, row, hh, name, account, bank in zip(
        persons["id_number"],
        persons[ROW],
        persons["household_id"],
        persons["name"],
        persons["payout_account"],
        persons["payout_bank"],
        strict=True,
    ):
        cell = typed.get(int(row), account)
        out[str(pid)] = PayeeAccount(
            row=int(row),
            household_id=str(hh),
            name=str(name),
            written="" if cells.is_blank(cell) else cells.as_text(cell),
            bank="" if bank is None else str(bank),
            check=check_account(cell),
        )
    return out
