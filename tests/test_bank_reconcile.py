"""`subsidy bank reconcile`: paid, failed, and every disagreement of the return named; re-issue; the chain closes."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from bank_helpers import account, detail, evaluate, read_bank_csv, write_return, write_roster
from helpers import run

EVERYONE = {"刘桂兰": account(2), "赵老汉": account(4)}  # 5 bank lines in 2023-09


def export(run_dir: Path, out: Path, *extra: str) -> list[dict[str, str]]:
    code, _, err = run("bank", "export", str(run_dir), "--out", str(out), *extra)
    assert code == 0, err
    return detail(read_bank_csv(out))


@pytest.fixture
def sent(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    run_dir = evaluate(write_roster(tmp_path / "roster.csv", EVERYONE), tmp_path / "run")
    lines = export(run_dir, tmp_path / "bank.csv")
    assert [(d["序号"], d["姓名"], d["金额"]) for d in lines] == [
        ("1", "王德福", "710.00"),
        ("2", "刘桂兰", "90.00"),
        ("3", "刘桂兰", "80.00"),
        ("4", "陈小", "2500.00"),
        ("5", "赵老汉", "955.00"),
    ]
    return run_dir, lines


def row(d: dict[str, str], status: str = "成功", reason: str = "", **change: str) -> list[str]:
    return [
        change.get("seq", d["序号"]),
        change.get("account", d["代发账号"]),
        change.get("amount", d["金额"]),
        status,
        reason,
    ]


def test_paid_failed_unknown_missing_and_amount_differs(
    sent: tuple[Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    run_dir, d = sent
    ret = write_return(
        tmp_path / "return.csv",
        [
            row(d[0]),
            row(d[1], "失败", "账户已冻结"),
            row(d[2], amount="8.00"),
            row(d[3]),
            ["9", "6217000000000000012", "10.00", "成功", ""],  # never sent; 序号 5 is not returned
        ],
    )
    out = tmp_path / "rec"
    code, stdout, err = run("bank", "reconcile", str(run_dir), str(ret), "--out", str(out))
    assert code == 1, err
    assert (
        "AMOUNT_DIFFERS  回盘第 4 行:序号 3(刘桂兰,500119********0041,2023-09 困难残疾人生活补贴)" in stdout
    )
    assert "回盘金额 8.00 元,发送的是 80.00 元" in stdout
    assert "UNKNOWN_LINE  回盘第 6 行:序号 9 不在批次" in stdout
    assert (
        "NOT_RETURNED  序号 5(赵老汉,500119********0114,2023-09 特困人员基本生活费) 已发送,回盘中没有"
        in stdout
    )
    assert "500119194101050114" not in stdout
    paid = pd.read_csv(out / "paid.csv", dtype=str, keep_default_na=False)
    assert list(zip(paid["姓名"], paid["规则"], paid["金额"], strict=True)) == [
        ("王德福", "dibao", "710.00"),
        ("陈小", "edu_vocational", "1000.00"),
        ("陈小", "yulu_plan", "1500.00"),
    ]
    assert list(paid.columns) == list(pd.read_csv(run_dir / "payments.csv", nrows=0).columns)
    failed = pd.read_csv(out / "failed.csv", dtype=str, keep_default_na=False)
    assert list(zip(failed["姓名"], failed["金额"], failed["序号"], failed["失败原因"], strict=True)) == [
        ("刘桂兰", "90.00", "2", "账户已冻结")
    ]
    errors = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    assert list(errors["类型"]) == ["AMOUNT_DIFFERS", "UNKNOWN_LINE", "NOT_RETURNED"]
    assert list(errors["序号"]) == ["3", "9", "5"] and list(errors["回盘行号"]) == ["4", "6", ""]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["sent"] == {"count": 5, "amount": "4335.00"}
    assert summary["paid"] == {"count": 2, "amount": "3210.00"}
    assert summary["failed"] == {"count": 1, "amount": "90.00"}
    assert summary["unresolved"] == {"count": 2, "amount": "1035.00"}
    assert summary["errors"] == {"AMOUNT_DIFFERS": 1, "NOT_RETURNED": 1, "UNKNOWN_LINE": 1}
    # paid.csv is a paid list: diff names exactly what is still unpaid (failed + unresolved)
    code, stdout, _ = run("diff", str(out / "paid.csv"), str(run_dir / "payments.csv"))
    assert code == 1 and "应发未发 3 笔 1125.00 元" in stdout and "不应发而发 0 笔" in stdout


def test_duplicates_other_accounts_unknown_status_and_unreadable_rows(
    sent: tuple[Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    run_dir, d = sent
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["兴隆镇代发回盘", None, None])  # a title above the header, a total below
    ws.append(["序号", "代发账号", "金额", "状态", "失败原因"])
    for r in (
        row(d[0]),
        row(d[0]),
        row(d[1], account=account(99)),
        row(d[2], "处理中"),
        ["abc", d[3]["代发账号"], "1.00", "成功", ""],
        row(d[3], amount="2,500"),
        row(d[4]),
        ["合计", "", "4335.00", "", ""],
    ):
        ws.append(r)
    ret = tmp_path / "return.xlsx"
    wb.save(ret)
    code, stdout, _ = run("bank", "reconcile", str(run_dir), str(ret), "--out", str(tmp_path / "rec"))
    assert code == 1
    errors = pd.read_csv(tmp_path / "rec" / "errors.csv", dtype=str, keep_default_na=False)
    assert list(zip(errors["类型"], errors["回盘行号"], strict=True)) == [
        ("DUPLICATE_LINE", "4"),
        ("ACCOUNT_DIFFERS", "5"),
        ("STATUS_UNKNOWN", "6"),
        ("BAD_ROW", "7"),
        ("BAD_ROW", "8"),
    ]
    assert "已在第 3 行回盘过" in stdout
    paid = pd.read_csv(tmp_path / "rec" / "paid.csv", dtype=str)
    assert list(paid["姓名"]) == ["赵老汉"]  # every other line waits for someone to resolve it


def test_a_return_without_the_columns_is_refused(
    sent: tuple[Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    run_dir, _ = sent
    ret = write_return(
        tmp_path / "r.csv", [["1", "x", "1.00", "成功"]], header=("编号", "账号", "金额", "结果")
    )
    code, _, err = run("bank", "reconcile", str(run_dir), str(ret), "--out", str(tmp_path / "rec"))
    assert code == 3 and "'序号'" in err and not (tmp_path / "rec").exists()


def test_failed_and_held_lines_are_reissued_after_the_roster_is_corrected(tmp_path: Path) -> None:
    run1 = evaluate(write_roster(tmp_path / "r1.csv", {"赵老汉": account(4)}), tmp_path / "run1")
    d = export(run1, tmp_path / "b1.csv")  # 刘桂兰 has no account: her two lines are held back
    assert [x["姓名"] for x in d] == ["王德福", "陈小", "赵老汉"]
    ret1 = write_return(tmp_path / "ret1.csv", [row(d[0]), row(d[1], "失败", "户名与账号不符"), row(d[2])])
    assert run("bank", "reconcile", str(run1), str(ret1), "--out", str(tmp_path / "rec1"))[0] == 0
    held = pd.read_csv(tmp_path / "rec1" / "held.csv", dtype=str)
    assert list(held["原因代码"]) == ["ACCOUNT_MISSING"] * 2 and list(held["名册行号"]) == ["3", "3"]

    # unchanged roster: the re-issue sends the failed line again (same account: said) and holds the rest
    code, stdout, _ = run(
        "bank", "export", str(run1), "--out", str(tmp_path / "same.csv"), "--reissue", str(tmp_path / "rec1")
    )
    assert code == 0 and "1 笔补发行的代发账号与上次失败时相同" in stdout and "暂缓 2 笔" in stdout

    fixed = {"赵老汉": account(4), "刘桂兰": account(2), "陈小": account(33)}
    run2 = evaluate(write_roster(tmp_path / "r2.csv", fixed), tmp_path / "run2")
    code, stdout, _ = run(
        "bank", "export", str(run2), "--out", str(tmp_path / "b2.csv"), "--reissue", str(tmp_path / "rec1")
    )
    assert code == 0
    rows = read_bank_csv(tmp_path / "b2.csv")
    assert rows[0][1].startswith("202309R") and rows[0][1] != read_bank_csv(tmp_path / "b1.csv")[0][1]
    d2 = detail(rows)
    assert [(x["序号"], x["姓名"], x["金额"], x["代发账号"]) for x in d2] == [
        ("1", "刘桂兰", "90.00", account(2)),
        ("2", "刘桂兰", "80.00", account(2)),
        ("3", "陈小", "2500.00", account(33)),
    ]
    assert rows[-1] == ["笔数", "3", "总金额", "2670.00"]
    ret2 = write_return(tmp_path / "ret2.csv", [row(x) for x in d2])
    rec2 = tmp_path / "rec2"
    code, stdout, err = run(
        "bank", "reconcile", str(run2), str(ret2), "--out", str(rec2), "--reissue", str(tmp_path / "rec1")
    )
    assert code == 0, stdout + err
    summary = json.loads((rec2 / "summary.json").read_text(encoding="utf-8"))
    assert summary["reissue_of"] == read_bank_csv(tmp_path / "b1.csv")[0][1]
    assert summary["paid_so_far"] == {"payment_lines": 6, "amount": "4335.00"}
    # every line paid: the paid list agrees with the computed one, line for line
    code, stdout, _ = run("diff", str(rec2 / "paid.csv"), str(run2 / "payments.csv"))
    assert code == 0, stdout
    assert (rec2 / "paid.csv").read_bytes() == (run2 / "payments.csv").read_bytes()


def test_a_reissue_pays_only_the_old_amounts(tmp_path: Path) -> None:
    run1 = evaluate(write_roster(tmp_path / "r1.csv"), tmp_path / "run1")
    d = export(run1, tmp_path / "b1.csv")
    ret = write_return(tmp_path / "ret.csv", [row(x) for x in d])
    assert run("bank", "reconcile", str(run1), str(ret), "--out", str(tmp_path / "rec"))[0] == 0
    other = evaluate(write_roster(tmp_path / "r2.csv"), tmp_path / "run2", period="2023-10")
    code, _, err = run(
        "bank", "export", str(other), "--out", str(tmp_path / "x.csv"), "--reissue", str(tmp_path / "rec")
    )
    assert code == 3 and "期间 2023-09" in err
    code, _, err = run(
        "bank", "export", str(run1), "--out", str(tmp_path / "x.csv"), "--reissue", str(tmp_path)
    )
    assert code == 3 and "不是 subsidy bank reconcile 的输出目录" in err
