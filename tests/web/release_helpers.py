"""A small town roster with payout accounts for the review and bank tests, and the bank's return for a batch.

In 2023-09 (bank_helpers' households): 王德福 低保 (his own line: he is 户主), 刘桂兰 disability care 90.00 and
living 80.00 (two bank lines), 陈小 education 2,500.00 (one bank line), 赵老汉 特困 955.00. With `dead_head`
王德福 died in May: the household's 低保 (370.00 for his widow alone) is still paid to him, the audit's
HEAD_DECEASED; with `bad_household` one more household has a wrong check character and is left out.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from bank_helpers import account, broken, households
from helpers import household_rows
from subsidy_engine.roster.schema import COLUMNS


def release_roster(
    path: Path, *, dead_head: bool = True, bad_household: bool = True, held: bool = True
) -> Path:
    hs = households(
        {"刘桂兰": account(2), "陈浩": account(5), "赵老汉": broken(account(4)) if held else account(4)}
    )
    if dead_head:
        hs[0]["members"][0]["死亡日期"] = "2023-05-01"  # type: ignore[index]
    if bad_household:
        hs.append(
            {
                "户编号": "H4",
                "members": [{"姓名": "错号", "与户主关系": "户主", "证件号码": "500119194001010011"}],
            }
        )
    rows = household_rows(hs)
    pd.DataFrame(rows, columns=[c.name for c in COLUMNS]).to_csv(path, index=False, lineterminator="\n")
    return path


def bank_lines(data: bytes) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """The batch-number line, the detail lines by column and the control line of a default-layout bank CSV."""
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header = rows[1]
    return rows[0], [dict(zip(header, r, strict=True)) for r in rows[2:-1]], rows[-1]


def bank_return(path: Path, lines: list[dict[str, str]], plan: dict[int, Any]) -> Path:
    """The bank's return of `lines`: by 序号, "paid" (default), ("failed", reason), "missing", ("amount", text);
    `plan[0]` adds a line never sent."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["序号", "代发账号", "金额", "状态", "失败原因"])
    for line in lines:
        seq = int(line["序号"])
        what = plan.get(seq, "paid")
        if what == "missing":
            continue
        amount, status, reason = line["金额"], "成功", ""
        if isinstance(what, tuple) and what[0] == "failed":
            status, reason = "失败", what[1]
        elif isinstance(what, tuple) and what[0] == "amount":
            amount = what[1]
        w.writerow([seq, line["代发账号"], amount, status, reason])
    if 0 in plan:
        w.writerow([len(lines) + 5, lines[0]["代发账号"], "100.00", "成功", ""])
    path.write_bytes(buf.getvalue().encode("gb18030"))
    return path
