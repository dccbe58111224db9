"""The seed scenario at the bank, end to end: 兴隆镇 2023-09 with accounts (some missing or wrong), the batch, a
generated return (paid, failed, unknown and missing lines, one amount changed), the reconciliation, and the chain
closing: `subsidy diff` and `subsidy audit --paid` find exactly the lines not paid."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from bank_helpers import detail, read_bank_csv
from helpers import run

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "xinglong-2023"
CODES = {"MISSING": "ACCOUNT_MISSING", "BAD_CHECK": "ACCOUNT_CHECK_DIGIT", "SHORT": "ACCOUNT_LENGTH"}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("xinglong_bank", SEED / "bank.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("bank-seed")
    bank = _script()
    planted = bank.with_accounts(d / "roster.csv")
    code, _, err = run("evaluate", str(d / "roster.csv"), "--period", "2023-09", "--out", str(d / "run"))
    assert code == 0, err
    code, out, err = run("bank", "export", str(d / "run"), "--out", str(d / "代发.csv"))
    assert code == 0, err
    ret = bank.bank_return(d / "代发.csv", d / "回盘.csv")
    code, rec_out, err = run(
        "bank", "reconcile", str(d / "run"), str(d / "回盘.csv"), "--out", str(d / "对账")
    )
    assert code == 1, err
    return {"d": d, "planted": planted, "ret": ret, "export_out": out, "rec_out": rec_out}


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_the_copy_with_accounts_computes_what_the_seed_roster_computes(
    month: dict[str, Any], tmp_path: Path
) -> None:
    code, _, err = run(
        "evaluate", str(SEED / "roster.xlsx"), "--period", "2023-09", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    for name in ("payments.csv", "totals.csv", "rejects.csv"):
        assert (tmp_path / "o" / name).read_bytes() == (month["d"] / "run" / name).read_bytes(), name
    assert len(month["planted"].problems) == 11 and len(month["planted"].grouped) == 8


def test_the_batch_holds_back_exactly_the_payees_without_a_usable_account(month: dict[str, Any]) -> None:
    d, planted = month["d"], month["planted"]
    payments = _csv(d / "run" / "payments.csv")
    rows = read_bank_csv(d / "代发.csv")
    lines = detail(rows)
    sent_fen = sum(int(x["金额"].replace(".", "")) for x in lines)
    assert rows[-1] == ["笔数", str(len(lines)), "总金额", f"{sent_fen // 100}.{sent_fen % 100:02d}"]
    assert [x["序号"] for x in lines] == [str(i) for i in range(1, len(lines) + 1)]
    assert all(x["代发账号"].isdigit() and len(x["代发账号"]) == 19 for x in lines)  # grouped ones too
    held = _csv(d / "对账" / "held.csv")
    bad = payments[payments["证件号码"].isin(planted.problems)]
    assert sorted(held["证件号码"]) == sorted(bad["证件号码"]) and len(held) == 13
    assert (
        {CODES[planted.problems[p]] for p in held["证件号码"]} == set(held["原因代码"]) == set(CODES.values())
    )
    assert all(held["原因代码"][i] == CODES[planted.problems[p]] for i, p in enumerate(held["证件号码"]))
    held_fen = sum(int(v.replace(".", "")) for v in held["金额"])
    assert sent_fen + held_fen == sum(int(v.replace(".", "")) for v in payments["金额"])
    assert f"暂缓 {len(_csv(d / '代发-待补账号.csv'))} 笔" in month["export_out"]


def test_the_return_is_reconciled_line_by_line(month: dict[str, Any]) -> None:
    d, ret = month["d"], month["ret"]
    errors = _csv(d / "对账" / "errors.csv")
    assert list(zip(errors["类型"], errors["序号"], strict=True)) == [
        ("AMOUNT_DIFFERS", str(ret.changed)),
        ("UNKNOWN_LINE", str(ret.unknown)),
        ("NOT_RETURNED", str(ret.missing)),
    ]
    failed = _csv(d / "对账" / "failed.csv")
    assert {int(s): r for s, r in zip(failed["序号"], failed["失败原因"], strict=True)} == ret.failed
    summary = json.loads((d / "对账" / "summary.json").read_text(encoding="utf-8"))
    sent = len(detail(read_bank_csv(d / "代发.csv")))
    assert summary["sent"]["count"] == sent
    assert summary["paid"]["count"] == sent - len(ret.failed) - 2
    assert summary["unresolved"]["count"] == 2 and summary["failed"]["count"] == len(ret.failed)
    assert "NOT_RETURNED" in month["rec_out"] and "500119" in month["rec_out"]
    payments = _csv(d / "run" / "payments.csv")
    assert not any(p in month["rec_out"] for p in payments["证件号码"])  # masked on the terminal


def test_the_chain_closes_diff_and_audit_find_exactly_the_unpaid_lines(month: dict[str, Any]) -> None:
    d = month["d"]
    paid = _csv(d / "对账" / "paid.csv")
    payments = _csv(d / "run" / "payments.csv")
    unpaid = pd.concat([_csv(d / "对账" / n) for n in ("failed.csv", "held.csv")])
    errors = _csv(d / "对账" / "errors.csv")
    line = ["发放月份", "项目", "证件号码"]
    sent = errors[errors["证件号码"] != ""][line]
    unresolved = payments.merge(sent, on=line)
    key = ["发放月份", "项目", "规则", "户编号", "证件号码"]
    expected = {tuple(r) for r in pd.concat([unpaid[key], unresolved[key]]).to_numpy().tolist()}
    assert len(paid) + len(expected) == len(payments)

    code, _, _ = run(
        "diff", str(d / "对账" / "paid.csv"), str(d / "run" / "payments.csv"), "--out", str(d / "diff")
    )
    assert code == 1
    diff = _csv(d / "diff" / "diff.csv")
    assert set(diff["差异类型"]) == {"missing"}
    bank_line = ["发放月份", "项目", "户编号", "证件号码"]  # diff compares per payee, month and program
    assert {tuple(r) for r in diff[bank_line].to_numpy().tolist()} == {
        (m, p, h, i) for m, p, _, h, i in expected
    }

    code, _, err = run(
        "audit",
        str(d / "roster.csv"),
        "--period",
        "2023-09",
        "--paid",
        str(d / "对账" / "paid.csv"),
        "--out",
        str(d / "audit"),
    )
    assert code == 1, err
    findings = _csv(d / "audit" / "findings.csv")
    unpaid_eligible = findings[findings["代码"] == "UNPAID_ELIGIBLE"]
    assert len(unpaid_eligible) == len(diff)
    assert sum(int(v.replace(".", "")) for v in unpaid_eligible["涉及金额"]) == sum(
        int(v.replace(".", "")) for v in diff["应发金额"]
    )


def test_the_failed_lines_are_reissued_in_a_new_batch(month: dict[str, Any]) -> None:
    d, ret = month["d"], month["ret"]
    code, out, err = run(
        "bank", "export", str(d / "run"), "--out", str(d / "补发.csv"), "--reissue", str(d / "对账")
    )
    assert code == 0, err
    rows = read_bank_csv(d / "补发.csv")
    assert "R" in rows[0][1] and len(detail(rows)) == len(ret.failed)
    assert f"注意:{len(ret.failed)} 笔补发行的代发账号与上次失败时相同" in out
    assert "暂缓 13 笔" in out  # still no account: still held
