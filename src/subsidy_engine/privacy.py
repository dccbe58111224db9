"""Personal numbers kept out of what people read: a 证件号码 masked as first 6 + ******** + last 4, ID-shaped text.

Two policies, one mask (`mask_id`):
- `mask_ids` (files the program writes for others: the 公示 copies, the terminal): every 18-character
  证件号码 (17 digits and a digit or X) inside a text is masked.
- `mask_text` (every page of the web app, its logs and masked downloads): anything shaped like a personal
  number, including a 证件号码 typed badly: a run of 15 or more digits (an X among them allowed), possibly
  broken by single spaces or hyphens or holding a stray letter, and a number in scientific notation with an
  exponent of 14 or more (the 证件号码 column Excel turned into numbers, `5.00119E+17`). Two shapes stay as
  written: exactly 16 digits, the 户编号 (6-digit county code + 10 digits: a caseworker finds a household by
  it, and no 证件号码 has 16 characters), unless the text names it an account (代发账号 6217…: a card or bank
  account has 16 to 19 digits, and a 16-digit one cannot be told from a 户编号 by its digits alone); and a
  sequence of ISO dates (`2023-01-01 2023-12-31`).
The only full 证件号码 the program writes is in the bank payment list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ID_LIKE = re.compile(r"\d{17}[\dXx]")
# digits, with single spaces/hyphens or one letter between them, and a final X: the callback counts them
# (\d is any digit, full-width ones included; full-width letters, spaces and hyphens count too)
_LETTER = "A-Za-zＡ-Ｚａ-ｚ"
_RUN = re.compile(rf"(?<!\d)\d(?:\d|[ \-\u3000－](?=\d)|[{_LETTER}](?=\d))*[XxＸｘ]?")
_SCIENTIFIC = re.compile(r"(?<![\d.])\d(?:\.\d+)?[eE]\+?(?:1[4-9]|[2-9]\d)(?!\d)")
_HOUSEHOLD = re.compile(r"[0-9]{16}")
_DATES = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ \-]\d{4}-\d{2}-\d{2})*")
# the words that make a number an account: 代发账号, 银行账号, 卡号, 账户, 社保卡, account (a few characters before)
_ACCOUNT_WORD = re.compile(r"(?:账号|卡号|账户|银行卡|社保卡|account)\D{0,6}$", re.IGNORECASE)
ACCOUNT_CONTEXT = 16  # characters before a number looked at for those words
MIN_DIGITS = 15
MAX_LETTERS = 2


def mask_id(value: object) -> str:
    """证件号码 for publication: first 6 + `********` + last 4; anything shorter than 10 characters is starred."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    if len(text) < 10:
        return "*" * len(text)
    return text[:6] + "********" + text[-4:]


def mask_ids(text: str) -> str:
    """`text` with every 18-character 证件号码 in it masked (mask_id); everything else as written."""
    return ID_LIKE.sub(lambda m: mask_id(m.group(0)), text)


def _names_an_account(m: re.Match[str]) -> bool:
    return bool(_ACCOUNT_WORD.search(m.string[max(0, m.start() - ACCOUNT_CONTEXT) : m.start()]))


def _mask_run(m: re.Match[str], keep: frozenset[str]) -> str:
    text = m.group(0)
    digits = sum(c.isdigit() for c in text)
    letters = sum(c.isalpha() for c in text)
    if digits < MIN_DIGITS or letters > MAX_LETTERS or text in keep:
        return text
    if _HOUSEHOLD.fullmatch(text) and not _names_an_account(m):
        return text
    if _DATES.fullmatch(text):
        return text
    return mask_id(text)


def mask_text(value: object, keep: Iterable[str] = ()) -> str:
    """`value` as text with every ID-shaped part masked, except the exact strings in `keep`."""
    kept = frozenset(keep)
    text = _RUN.sub(lambda m: _mask_run(m, kept), str(value))
    return _SCIENTIFIC.sub(lambda m: mask_id(m.group(0)), text)


PERSONAL_COLUMNS = ("证件号码", "id_number", "残疾证号", "disability_cert", "代发账号", "payout_account")


def mask_cell(column: str, value: str) -> str:
    """A cell of a roster column that holds a personal number, masked (mask_id); any other cell as it is."""
    return mask_id(value) if column in PERSONAL_COLUMNS else value
