"""`subsidy bank export`: accounts checked, lines held back, the batch and its control line, CSV and xlsx, layouts."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from bank_helpers import BANK, account, broken, detail, evaluate, read_bank_csv, write_roster
from helpers import run
from subsidy_engine.release.accounts import check_account, luhn_digit, luhn_ok
from subsidy_engine.release.layout import DEFAULT_LAYOUT

ID_WDF, ID_LGL, ID_CX, ID_ZLH = (
    "500119195804100039",
    "500119196011020041",
    "500119200805010098",
    "500119194101050114",
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return evaluate(write_roster(tmp_path / "roster.csv"), tmp_path / "run")


def test_luhn_and_the_account_rules() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert luhn_ok("79927398713") and luhn_digit("7992739871") == "3"
    good = account(7)
    assert check_account(good).account == good and check_account(good).code == ""
    assert check_account(f" {good[:4]} {good[4:8]}\u3000{good[8:]} ").account == good  # groups as on the card
    full_width = good.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert check_account(full_width).account == good
    assert check_account(int(good)).account == good  # a Parquet int64 is exact
    for cell, code in [
        (None, "ACCOUNT_MISSING"),
        ("  ", "ACCOUNT_MISSING"),
        (6.217000000000001e18, "ACCOUNT_NUMBER_CELL"),
        (good[:6] + "-" + good[6:], "ACCOUNT_NOT_DIGITS"),
        ("6217０ab", "ACCOUNT_NOT_DIGITS"),
        (account(1, 16)[:-1], "ACCOUNT_LENGTH"),
        (good + "0", "ACCOUNT_LENGTH"),
        (broken(good), "ACCOUNT_CHECK_DIGIT"),
    ]:
        assert check_account(cell).code == code, cell
    assert "15" in check_account(good[:15]).message and len(account(2, 16)) == 16
    assert check_account(account(2, 16)).code == ""


def test_the_account_columns_change_no_output_and_reject_nothing(tmp_path: Path) -> None:
    plain = evaluate(write_roster(tmp_path / "plain.csv", with_columns=False), tmp_path / "plain")
    bad = {"王德福": "not a number", "陈小": "=HYPERLINK(1)"}
    accounts = evaluate(write_roster(tmp_path / "acc.csv", accounts=bad), tmp_path / "acc")
    for name in ("payments.csv", "totals.csv", "rejects.csv"):
        assert (plain / name).read_bytes() == (accounts / name).read_bytes(), name
    manifest = json.loads((accounts / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["rows_rejected"] == 0 and manifest["input"]["ignored_columns"] == []
    assert sorted(p.name for p in accounts.iterdir()) == [
        "manifest.json",
        "payments.csv",
        "rejects.csv",
        "totals.csv",
    ]


def test_export_writes_the_batch_and_holds_back_bad_accounts(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "代发-202309.csv"
    code, stdout, err = run("bank", "export", str(run_dir), "--out", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    rows = read_bank_csv(out)
    batch = rows[0][1]
    assert rows[0] == ["批次号", batch] and len(batch) == 18 and batch.startswith("202309")
    assert rows[1] == ["序号", "姓名", "证件号码", "代发账号", "开户银行", "金额", "项目名称", "摘要"]
    assert rows[2:] == [
        ["1", "王德福", ID_WDF, account(1), BANK, "710.00", "最低生活保障金", "2023年09月最低生活保障金"],
        ["2", "陈小", ID_CX, account(3), BANK, "2500.00", "教育资助", "2023年09月教育资助"],
        ["笔数", "2", "总金额", "3210.00"],
    ]
    held = read_bank_csv(tmp_path / "代发-202309-待补账号.csv")
    assert [(r[0], r[2], r[3], r[9], r[10]) for r in held[1:]] == [
        ("3", "刘桂兰", "500119********0041", "90.00", "ACCOUNT_MISSING"),
        ("3", "刘桂兰", "500119********0041", "80.00", "ACCOUNT_MISSING"),
        ("6", "赵老汉", "500119********0114", "955.00", "ACCOUNT_CHECK_DIGIT"),
    ]
    assert ID_LGL not in stdout + err and ID_WDF not in stdout  # the terminal never shows a whole ID
    assert f"批次号 {batch}" in stdout and "导出 2 笔,合计 3210.00 元" in stdout
    assert "暂缓 3 笔,合计 1125.00 元" in stdout and "ACCOUNT_MISSING" in stdout
    # sent + held = the payment list, amount for amount
    assert (
        sum(
            int(line.split(",")[8].replace(".", ""))
            for line in (run_dir / "payments.csv").read_text(encoding="utf-8").splitlines()[1:]
        )
        == 321000 + 112500
    )
    again = tmp_path / "again.csv"
    assert run("bank", "export", str(run_dir), "--out", str(again))[0] == 0
    assert again.read_bytes() == data  # the same run gives the same batch


def test_gb18030_and_xlsx(run_dir: Path, tmp_path: Path) -> None:
    csv_out, gb_out, xlsx_out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.xlsx"
    assert run("bank", "export", str(run_dir), "--out", str(csv_out))[0] == 0
    assert run("bank", "export", str(run_dir), "--out", str(gb_out), "--encoding", "gb18030")[0] == 0
    assert gb_out.read_bytes().decode("gb18030") == csv_out.read_bytes().decode("utf-8-sig")
    assert read_bank_csv(tmp_path / "b-待补账号.csv", "gb18030")[0][0] == "名册行号"
    assert run("bank", "export", str(run_dir), "--out", str(xlsx_out))[0] == 0
    ws = openpyxl.load_workbook(xlsx_out).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0][0] == "批次号" and values[1][3] == "代发账号"
    assert values[2][:6] == [1, "王德福", ID_WDF, account(1), BANK, 710]
    cells = list(ws.iter_rows())[2]
    assert cells[2].data_type == "s" and cells[3].data_type == "s" and cells[5].number_format == "0.00"
    assert values[-1][:4] == ["笔数", 2, "总金额", 3210] and set(values[-1][4:]) <= {None}
    again = tmp_path / "d.xlsx"
    assert run("bank", "export", str(run_dir), "--out", str(again))[0] == 0
    assert again.read_bytes() == xlsx_out.read_bytes()
    code, _, err = run(
        "bank", "export", str(run_dir), "--out", str(tmp_path / "e.xlsx"), "--encoding", "gb18030"
    )
    assert code == 2 and "--encoding" in err
    code, _, err = run("bank", "export", str(run_dir), "--out", str(tmp_path / "e.txt"))
    assert code == 2 and ".csv 或 .xlsx" in err


def test_a_layout_file_matches_the_office_bank(run_dir: Path, tmp_path: Path) -> None:
    text = DEFAULT_LAYOUT.read_text(encoding="utf-8")
    text = text.replace("encoding: utf-8-bom", "encoding: gb18030").replace("line_end: crlf", "line_end: lf")
    text = text.replace("  - {title: 开户银行, value: bank}\n", "  - {title: 币种, text: 人民币}\n")
    text = text.replace('  - [批次号, "{batch}"]', '  - [代发批次, "{batch}", 期间, "{period}"]')
    layout = tmp_path / "my-bank.yaml"
    layout.write_text(text, encoding="utf-8")
    out = tmp_path / "x.csv"
    code, _, err = run("bank", "export", str(run_dir), "--out", str(out), "--layout", str(layout))
    assert code == 0, err
    raw = out.read_bytes()
    assert b"\r" not in raw
    rows = read_bank_csv(out, "gb18030")
    assert rows[0][0] == "代发批次" and rows[0][2:] == ["期间", "2023-09"]
    assert rows[1][4] == "币种" and rows[2][4] == "人民币"
    assert detail(rows)[0]["代发账号"] == account(1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("value: memo", "value: remark"), "未知的取值 'remark'"),
        (('"{total}"', '"{sum}"'), "未知的占位符 {sum}"),
        (("  - {title: 序号, value: seq}\n", ""), "columns 缺少 seq"),
        (("encoding: utf-8-bom", "encoding: big5"), "encoding 'big5' 不支持"),
        (("sheet: 代发明细", "sheet: 代发明细\ncolour: red"), "未知的键 colour"),
        (("paid: [成功]", "paid: [失败]"), "return.paid 与 return.failed"),
    ],
)
def test_a_bad_layout_is_refused_naming_the_key(
    run_dir: Path, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    layout = tmp_path / "bad.yaml"
    layout.write_text(DEFAULT_LAYOUT.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    code, _, err = run(
        "bank", "export", str(run_dir), "--out", str(tmp_path / "x.csv"), "--layout", str(layout)
    )
    assert code == 3 and message in err, err
    assert not (tmp_path / "x.csv").exists()


def test_the_roster_must_be_the_one_the_run_read(run_dir: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    moved = tmp_path / "moved.csv"
    roster.rename(moved)
    code, _, err = run("bank", "export", str(run_dir), "--out", str(tmp_path / "a.csv"))
    assert code == 3 and "--roster" in err
    code, _, err = run(
        "bank", "export", str(run_dir), "--out", str(tmp_path / "a.csv"), "--roster", str(moved)
    )
    assert code == 0, err
    write_roster(roster, accounts={"刘桂兰": account(2)})  # corrected after the run: not the run's roster
    code, _, err = run(
        "bank", "export", str(run_dir), "--out", str(tmp_path / "b.csv"), "--roster", str(roster)
    )
    assert code == 3 and "名册已改变" in err and not (tmp_path / "b.csv").exists()


def test_a_payment_list_changed_after_the_run_is_refused(run_dir: Path, tmp_path: Path) -> None:
    p = run_dir / "payments.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("710.00", "7100.00"), encoding="utf-8")
    code, _, err = run("bank", "export", str(run_dir), "--out", str(tmp_path / "a.csv"))
    assert code == 3 and "sha256" in err and "payments.csv" in err


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    code, _, err = run("bank", "export", str(tmp_path), "--out", str(tmp_path / "a.csv"))
    assert code == 3 and "manifest.json" in err
    streamed = tmp_path / "s"
    streamed.mkdir()
    (streamed / "manifest.json").write_text(
        json.dumps(
            {"period": "2023", "input": {}, "rules": {}, "outputs": {"payments/part-00000.parquet": "x"}}
        ),
        encoding="utf-8",
    )
    code, _, err = run("bank", "export", str(streamed), "--out", str(tmp_path / "a.csv"))
    assert code == 3 and "--stream" in err


def test_outputs_follow_the_usual_rules(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert run("bank", "export", str(run_dir), "--out", str(out))[0] == 0
    code, _, err = run("bank", "export", str(run_dir), "--out", str(out))
    assert code == 5 and "--overwrite" in err
    assert run("bank", "export", str(run_dir), "--out", str(out), "--overwrite")[0] == 0
    code, _, err = run("bank", "export", str(run_dir), "--out", str(tmp_path / "no" / "a.csv"))
    assert code == 5 and "不存在" in err
