"""A small roster with payout accounts, its run folder, and bank returns, for the bank tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from helpers import household_rows, run
from subsidy_engine.release.accounts import luhn_digit
from subsidy_engine.roster.schema import COLUMNS


def account(n: int, digits: int = 19) -> str:
    """A valid card number (Luhn), distinct for each n."""
    body = f"621700{n:0{digits - 7}d}"
    return body + luhn_digit(body)


def broken(good: str) -> str:
    """The same number with a wrong check digit."""
    return good[:-1] + str((int(good[-1]) + 1) % 10)


BANK = "重庆农村商业银行"


# In 2023-09: 王德福 低保 710.00 (household line); 刘桂兰 disability care 90.00 + living 80.00 (two bank lines);
# 陈小 education 1000.00 + 1500.00 (one bank line of 2500.00); 赵老汉 特困 955.00; 陈浩 nothing.
def households(accounts: dict[str, str] | None = None) -> list[dict[str, object]]:
    a = {
        "王德福": account(1),
        "刘桂兰": "",
        "陈浩": "6217 0000 1234",
        "陈小": account(3),
        "赵老汉": broken(account(4)),
        **(accounts or {}),
    }

    def m(name: str, **kw: object) -> dict[str, object]:
        return {"姓名": name, "代发账号": a[name], "开户银行": BANK if a[name] else "", **kw}

    return [
        {
            "户编号": "H1",
            "低保类别": "农村",
            "低保起始月": "2021-03",
            "家庭月人均收入": "260",
            "members": [
                m("王德福", 与户主关系="户主", born="1958-04-10", 低保在保="是"),
                m("刘桂兰", 与户主关系="配偶", born="1960-11-02", sex="女", 低保在保="是", disability=41),
            ],
        },
        {
            "户编号": "H2",
            "户类型": "脱贫户",
            "members": [
                m("陈浩", 与户主关系="户主", born="1990-05-01"),
                m("陈小", 与户主关系="子女", born="2008-05-01", 在校学段="中职", 年级="1"),
            ],
        },
        {"户编号": "H3", "members": [m("赵老汉", 与户主关系="户主", born="1941-01-05", 特困人员="是")]},
    ]


def write_roster(path: Path, accounts: dict[str, str] | None = None, with_columns: bool = True) -> Path:
    header = [c.name for c in COLUMNS if with_columns or c.alias not in ("payout_account", "payout_bank")]
    rows = household_rows(households(accounts))
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, lineterminator="\n")
    return path


def evaluate(roster: Path, out: Path, period: str = "2023-09") -> Path:
    code, _, err = run("evaluate", str(roster), "--period", period, "--out", str(out))
    assert code == 0, err
    return out


def read_bank_csv(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def detail(rows: list[list[str]]) -> list[dict[str, str]]:
    """The detail lines of a default-layout bank file, as dicts by column title."""
    header = rows[1]
    return [dict(zip(header, r, strict=True)) for r in rows[2:-1]]


def write_return(
    path: Path,
    lines: list[list[str]],
    header: tuple[str, ...] = ("序号", "代发账号", "金额", "状态", "失败原因"),
) -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([list(header), *lines])
    path.write_bytes(buf.getvalue().encode("gb18030"))
    return path
