"""Review, approval and the bank on the pages, on both stores: every transition and refusal, the warnings from
the audit's findings, the bank file's control line against the approved list, a return with paid, failed,
unknown and missing lines, re-issue, write-off and 已发放, corrections, and the access log of each step."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from release_helpers import bank_lines, bank_return, release_roster
from sqlalchemy import select, update

from conftest import add_user
from subsidy_engine.web import accesslog
from subsidy_engine.web.models import BankBatch, Run, StoredFile, User


def _run(app: Any, browser: Any, tmp_path: Path, **roster: bool) -> tuple[Any, str]:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "shenhe", "reviewer", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(release_roster(tmp_path / "roster.csv", **roster))
    assert r.status_code == 200, r.text
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023-09"})
    assert r.status_code == 200 and 'id="state">草稿<' in r.text, r.text
    return b, str(r.url).rsplit("/", 1)[1]


def _row(app: Any, run_id: str) -> Run:
    with app.state.sessions() as db:
        run = db.get(Run, run_id)
        assert run is not None
        return run


def _log(app: Any) -> list[dict[str, Any]]:
    return list(accesslog.entries(app.state.engine))


def _batch_files(app: Any, run_id: str) -> dict[str, list[str]]:
    """batch number -> its stored file kinds"""
    with app.state.sessions() as db:
        out: dict[str, list[str]] = {}
        for b in db.scalars(select(BankBatch).where(BankBatch.run_id == run_id).order_by(BankBatch.seq)):
            kinds = db.scalars(select(StoredFile.kind).where(StoredFile.batch_id == b.id))
            out[b.id] = sorted(kinds)
        return out


def test_a_month_from_draft_to_paid_through_the_pages(app: Any, browser: Any, tmp_path: Path) -> None:
    caseworker, run_id = _run(app, browser, tmp_path)
    reviewer = browser("shenhe")
    page = reviewer.get(f"/runs/{run_id}")
    assert 'id="approve-form"' not in page.text and 'id="submit-form"' not in page.text
    r = reviewer.post(f"/runs/{run_id}/approve", {"ack": "HEAD_DECEASED"})
    assert r.status_code == 409 and "运行处于「草稿」,只有「已提交」的运行可以审核" in r.text
    r = caseworker.post(f"/runs/{run_id}/bank")
    assert r.status_code == 409 and "审核通过(已审核)后才能导出代发文件" in r.text

    # submit: the warnings are the audit's findings on the list, plus the households left out
    r = caseworker.post(f"/runs/{run_id}/submit")
    assert r.status_code == 200 and 'id="state">已提交<' in r.text
    assert 'id="submit-form"' not in r.text and 'id="approve-form"' not in r.text
    warnings = _row(app, run_id).warnings or []
    codes = [w["code"] for w in warnings]
    assert codes == ["ID_INVALID", "HEAD_DECEASED", "HOUSEHOLDS_LEFT_OUT"]
    dead = warnings[1]
    assert (
        dead["title"] == "户主已死亡仍为低保领款人" and dead["amount"] == "370.00" and dead["households"] == 1
    )
    assert "王德福" in dead["rows"][0]["证据"] and "最低生活保障" in dead["rows"][0]["证据"]
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", dead["rows"][0]["证件号码"])
    assert warnings[2]["households"] == 1 and "证件号码校验位错误" in warnings[2]["rows"][0]["证据"]
    assert "500119194001010011" not in r.text

    # the reviewer sees every warning with a box to tick; a caseworker cannot approve
    page = reviewer.get(f"/runs/{run_id}")
    assert 'id="approve-form"' in page.text and 'id="return-form"' in page.text
    for code in codes:
        assert f'name="ack" value="{code}"' in page.text
    assert "户主已死亡仍为低保领款人" in page.text and ">370.00<" in page.text
    r = caseworker.post(f"/runs/{run_id}/approve", {"ack": codes})
    assert r.status_code == 403 and "只有审核人可以审核运行" in r.text
    r = reviewer.post(f"/runs/{run_id}/approve")
    assert r.status_code == 409 and "还有 3 条提示未确认" in r.text
    r = reviewer.post(f"/runs/{run_id}/approve", {"ack": ["ID_INVALID", "HEAD_DECEASED"]})
    assert r.status_code == 409 and "还有 1 条提示未确认:未通过校验、未参与计算的户;" in r.text
    assert _row(app, run_id).release_state == "已提交"
    r = reviewer.post(f"/runs/{run_id}/approve", {"ack": codes})
    assert r.status_code == 200 and 'id="state">已审核<' in r.text and 'id="locked"' in r.text
    run = _row(app, run_id)
    assert run.acknowledged == sorted(codes) and run.locked_files == run.release_files
    assert run.locked_files and set(run.locked_files) >= {"payments.csv", "manifest.json", "totals.csv"}
    for action in ("submit", "return"):  # an approved run stays as it is
        r = caseworker.post(f"/runs/{run_id}/{action}", {"reason": "改一下"})
        assert r.status_code in (403, 409) and r.status_code == (409 if action == "submit" else 403), r.text
    r = reviewer.post(f"/runs/{run_id}/return", {"reason": "改一下"})
    assert r.status_code == 409 and "只有「已提交」的运行可以退回" in r.text

    # the bank file: its control line is the approved list minus the lines held back for their account
    r = caseworker.post(f"/runs/{run_id}/bank")
    assert r.status_code == 200 and 'id="batches"' in r.text and 'id="return-upload"' in r.text
    (first,) = _batch_files(app, run_id)
    assert _batch_files(app, run_id)[first] == ["bank.csv", "bank.xlsx", "held-accounts.csv"]
    assert caseworker.post(f"/runs/{run_id}/bank").status_code == 200  # asked again: the same batch
    assert list(_batch_files(app, run_id)) == [first]
    data = caseworker.get(f"/runs/{run_id}/bank/{first}/bank.csv")
    assert data.status_code == 200 and "filename*=utf-8''" in data.headers["content-disposition"].lower()
    head, lines, control = bank_lines(data.content)
    with app.state.sessions() as db:
        batch = db.get(BankBatch, first)
        assert batch is not None and head == ["批次号", batch.number]
    assert [x["姓名"] for x in lines] == ["王德福", "刘桂兰", "刘桂兰", "陈小"]
    total = sum(Decimal(x["金额"]) for x in lines)
    assert control == ["笔数", "4", "总金额", f"{total:.2f}"] and total == Decimal("3040.00")
    assert total + Decimal(batch.held_total) == Decimal(run.total or "") and batch.held == 1
    wb = load_workbook(io.BytesIO(caseworker.get(f"/runs/{run_id}/bank/{first}/bank.xlsx").content))
    ws = wb.active
    assert ws is not None and ws["D3"].data_type == "s" and len(str(ws["D3"].value)) == 19
    held = caseworker.get(f"/runs/{run_id}/bank/{first}/held-accounts.csv").content.decode("utf-8-sig")
    assert "赵老汉" in held and "ACCOUNT_CHECK_DIGIT" in held and not re.search(r"500119\d{11}[\dX]", held)

    # the return: 1 paid, 2 failed, 3 missing, 4 another amount, and a line never sent
    r = caseworker.post(f"/runs/{run_id}/release")
    assert r.status_code == 409 and "对账之后才能确认发放" in r.text
    ret = bank_return(
        tmp_path / "回盘.csv",
        lines,
        {2: ("failed", "账户已冻结"), 3: "missing", 4: ("amount", "2400.00"), 0: 1},
    )
    with ret.open("rb") as f:
        r = reviewer.post(f"/runs/{run_id}/bank-return", files={"returned": ("回盘.csv", f, "text/csv")})
    assert r.status_code == 200, r.text
    summary = _row_batch(app, first)
    assert {k: summary[k]["count"] for k in ("sent", "paid", "failed", "held", "unresolved")} == {
        "sent": 4,
        "paid": 1,
        "failed": 1,
        "held": 1,
        "unresolved": 2,
    }
    assert summary["error_codes"] == {"AMOUNT_DIFFERS": 1, "NOT_RETURNED": 1, "UNKNOWN_LINE": 1}
    assert "成功 <b>1</b> 笔 370.00 元;失败 <b>1</b> 笔 90.00 元;待查 <b>2</b> 笔 2,580.00 元" in r.text
    assert 'id="recon-errors"' in r.text and "从未发送" in r.text and 'id="reissue-form"' in r.text
    assert set(_batch_files(app, run_id)[first]) >= {
        "paid.csv",
        "failed.csv",
        "held.csv",
        "errors.csv",
        "return",
    }
    paid = caseworker.get(f"/runs/{run_id}/bank/{first}/paid.csv").content.decode("utf-8")
    paid_rows = list(csv.DictReader(io.StringIO(paid)))
    assert [(p["姓名"], p["金额"]) for p in paid_rows] == [("王德福", "370.00")]
    failed = list(csv.DictReader(io.StringIO(caseworker.get(f"/runs/{run_id}/bank/{first}/failed.csv").text)))
    assert [(p["姓名"], p["金额"], p["失败原因"]) for p in failed] == [("刘桂兰", "90.00", "账户已冻结")]
    with ret.open("rb") as f:  # a batch is reconciled once
        again = reviewer.post(f"/runs/{run_id}/bank-return", files={"returned": ("回盘.csv", f, "text/csv")})
    assert again.status_code == 409 and "已对账" in again.text

    # not paid yet: 已发放 needs every unpaid line written off; the failed line is re-issued first
    r = caseworker.post(f"/runs/{run_id}/release")
    assert r.status_code == 409 and "还有 4 笔未发放" in r.text
    r = caseworker.post(f"/runs/{run_id}/bank", {"reissue": "1"})
    assert r.status_code == 200
    second = list(_batch_files(app, run_id))[1]
    _, relines, recontrol = bank_lines(caseworker.get(f"/runs/{run_id}/bank/{second}/bank.csv").content)
    assert [(x["姓名"], x["金额"]) for x in relines] == [("刘桂兰", "90.00")] and recontrol[1] == "1"
    ret2 = bank_return(tmp_path / "回盘2.csv", relines, {})
    with ret2.open("rb") as f:
        r = caseworker.post(f"/runs/{run_id}/bank-return", files={"returned": ("回盘2.csv", f, "text/csv")})
    assert r.status_code == 200 and _row(app, run_id).release_state == "已审核"
    paid2 = list(csv.DictReader(io.StringIO(caseworker.get(f"/runs/{run_id}/bank/{second}/paid.csv").text)))
    assert sorted((p["姓名"], p["金额"]) for p in paid2) == [("刘桂兰", "90.00"), ("王德福", "370.00")]
    keys = re.findall(r'name="key" value="([^"]+)"', r.text)
    assert len(keys) == 3  # batch 1's two unresolved lines, and 赵老汉 still without an account
    r = caseworker.post(f"/runs/{run_id}/release", {"key": keys, "reason": ["银行确认已入账", "", ""]})
    assert r.status_code == 409 and "还有 2 笔未发放" in r.text
    reasons = ["银行确认已入账", "银行确认已入账(2,400.00 元,差额另行处理)", "本人已去世,停发"]
    r = caseworker.post(f"/runs/{run_id}/release", {"key": keys, "reason": reasons})
    assert r.status_code == 200 and 'id="state">已发放<' in r.text
    run = _row(app, run_id)
    assert run.release_state == "已发放" and dict(zip(keys, reasons, strict=True)) == run.written_off
    assert caseworker.post(f"/runs/{run_id}/bank", {"reissue": "1"}).status_code == 409

    # every step and refusal is in the access log, and the chain holds
    entries = _log(app)
    done = [(e["action"], e["result"]) for e in entries if e["action"].startswith(("release_", "bank_"))]
    assert ("release_submit", "ok") in done and ("release_approve", "ok") in done
    assert ("bank_export", "ok") in done and ("bank_reissue", "ok") in done
    assert ("bank_reconcile", "errors") in done and ("bank_reconcile", "ok") in done
    assert ("release_done", "ok") in done
    refused = {e["action"] for e in entries if e["result"] == "refused"}
    assert {"release_approve", "release_return", "bank_export", "bank_reconcile", "release_done"} <= refused
    downloads = [e["target"] for e in entries if e["action"] == "download"]
    assert any(t.endswith("bank.csv") for t in downloads) and any(t.endswith("paid.csv") for t in downloads)
    assert accesslog.verify(app.state.engine)[1] is None


def _row_batch(app: Any, batch_id: str) -> dict[str, Any]:
    with app.state.sessions() as db:
        b = db.get(BankBatch, batch_id)
        assert b is not None and b.summary is not None
        return b.summary


def test_nobody_approves_their_own_run_or_another_towns(app: Any, browser: Any, tmp_path: Path) -> None:
    caseworker, run_id = _run(app, browser, tmp_path)
    add_user(app, "shuanghe-shenhe", "reviewer", "双河镇")
    add_user(app, "auditor", "auditor")
    assert caseworker.post(f"/runs/{run_id}/submit").status_code == 200
    codes = [w["code"] for w in _row(app, run_id).warnings or []]
    other = browser("shuanghe-shenhe")
    assert other.get(f"/runs/{run_id}").status_code == 404
    assert other.post(f"/runs/{run_id}/approve", {"ack": codes}).status_code == 404
    r = browser("auditor").post(f"/runs/{run_id}/approve", {"ack": codes})
    assert r.status_code == 403 and "只有审核人可以审核运行" in r.text
    # the caseworker who made the run and uploaded its roster becomes a reviewer: still not his to approve
    with app.state.sessions() as db:
        db.execute(update(User).where(User.name == "xinglong").values(role="reviewer"))
        db.commit()
    own = browser("xinglong")
    assert "您计算或上传了本运行,不能审核" in own.get(f"/runs/{run_id}").text
    r = own.post(f"/runs/{run_id}/approve", {"ack": codes})
    assert r.status_code == 403 and "不能审核自己计算或上传的运行" in r.text
    reviewer = browser("shenhe")
    r = reviewer.post(f"/runs/{run_id}/return", {"reason": "  "})
    assert r.status_code == 409 and "退回必须写明原因" in r.text
    r = reviewer.post(f"/runs/{run_id}/return", {"reason": "王德福已去世,请核实低保领款人"})
    assert r.status_code == 200 and 'id="state">已退回<' in r.text
    assert "审核人退回:王德福已去世,请核实低保领款人" in r.text
    assert reviewer.post(f"/runs/{run_id}/approve", {"ack": codes}).status_code == 409
    actions = [
        (e["action"], e["result"], e["user_name"]) for e in _log(app) if e["action"].startswith("release_")
    ]
    assert ("release_approve", "refused", "xinglong") in actions and (
        "release_return",
        "ok",
        "shenhe",
    ) in actions


def test_an_approved_run_is_locked_and_a_rerun_is_a_correction_naming_it(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    caseworker, run_id = _run(app, browser, tmp_path, dead_head=False, bad_household=False)
    reviewer = browser("shenhe")
    assert caseworker.post(f"/runs/{run_id}/submit").status_code == 200
    assert _row(app, run_id).warnings == []
    page = reviewer.get(f"/runs/{run_id}")
    assert 'id="no-warnings"' in page.text
    assert reviewer.post(f"/runs/{run_id}/approve").status_code == 200
    run = _row(app, run_id)
    before = dict(run.locked_files or {})

    # a re-run of the same upload and period: a new run, in 草稿, naming the approved one, which stays as it was
    r = caseworker.post(f"/uploads/{run.upload_id}/runs", {"period": "2023-09", "force": "1"})
    assert r.status_code == 200
    new_id = str(r.url).rsplit("/", 1)[1]
    assert new_id != run_id and 'id="state">草稿<' in r.text
    assert re.search(rf'id="replaces">更正:替代 <a href="/runs/{run_id}">', r.text)
    old_page = caseworker.get(f"/runs/{run_id}")
    assert re.search(rf'id="replaced-by">更正:本运行已被 <a href="/runs/{new_id}">', old_page.text)
    assert 'id="state">已审核<' in old_page.text
    new = _row(app, new_id)
    assert new.replaces == run_id and new.release_history and new.release_history[0]["action"] == "correct"
    assert _row(app, run_id).locked_files == before
    with app.state.sessions() as db:
        stored = {f.kind: f.sha256 for f in db.scalars(select(StoredFile).where(StoredFile.run_id == run_id))}
    assert stored == before

    # the old run's bank file goes out first; the correction may not pay again until its return is in
    assert caseworker.post(f"/runs/{run_id}/bank").status_code == 200
    assert caseworker.post(f"/runs/{new_id}/submit").status_code == 200
    assert reviewer.post(f"/runs/{new_id}/approve").status_code == 200
    r = caseworker.post(f"/runs/{new_id}/bank")
    assert r.status_code == 409 and "被更正的运行已导出代发批次" in r.text
    (first,) = _batch_files(app, run_id)
    _, lines, _ = bank_lines(caseworker.get(f"/runs/{run_id}/bank/{first}/bank.csv").content)
    ret = bank_return(tmp_path / "回盘.csv", lines, {1: ("failed", "户名与账号不符")})
    with ret.open("rb") as f:
        assert (
            caseworker.post(f"/runs/{run_id}/bank-return", files={"returned": ("r.csv", f)}).status_code
            == 200
        )
    r = caseworker.post(f"/runs/{run_id}/bank", {"reissue": "1"})
    assert r.status_code == 409 and "已被更正运行" in r.text and "请从更正运行导出" in r.text
    # the correction's first batch re-issues only what the old run's return left unpaid
    assert caseworker.post(f"/runs/{new_id}/bank").status_code == 200
    (batch,) = _batch_files(app, new_id)
    _, relines, control = bank_lines(caseworker.get(f"/runs/{new_id}/bank/{batch}/bank.csv").content)
    assert (
        [x["序号"] for x in relines] == ["1"] and relines[0]["姓名"] == lines[0]["姓名"] and control[1] == "1"
    )
    with app.state.sessions() as db:
        b = db.get(BankBatch, batch)
        assert b is not None and b.reissue_of == first and "R" in b.number

    # a file of the approved run changed on disk: nothing more goes to the bank from it
    path = app.state.settings.data_dir / "runs" / new_id / "payments.csv"
    path.write_bytes(path.read_bytes().replace(b"955.00", b"999.00"))
    ret2 = bank_return(tmp_path / "回盘2.csv", relines, {})
    with ret2.open("rb") as f:
        r = caseworker.post(f"/runs/{new_id}/bank-return", files={"returned": ("r.csv", f)})
    assert r.status_code == 409 and "已审核的运行被改动:payments.csv 与审核时不同" in r.text


def test_a_return_that_pays_every_line_makes_the_run_paid(app: Any, browser: Any, tmp_path: Path) -> None:
    caseworker, run_id = _run(app, browser, tmp_path, dead_head=False, bad_household=False, held=False)
    reviewer = browser("shenhe")
    assert caseworker.post(f"/runs/{run_id}/submit").status_code == 200
    assert reviewer.post(f"/runs/{run_id}/approve").status_code == 200
    assert reviewer.post(f"/runs/{run_id}/bank").status_code == 200
    (first,) = _batch_files(app, run_id)
    _, lines, control = bank_lines(reviewer.get(f"/runs/{run_id}/bank/{first}/bank.csv").content)
    run = _row(app, run_id)
    assert control == ["笔数", "5", "总金额", run.total]  # nothing held back: the control line is the list
    assert sum(Decimal(x["金额"]) for x in lines) == Decimal(run.total or "")
    with bank_return(tmp_path / "r.csv", lines, {}).open("rb") as f:
        r = reviewer.post(f"/runs/{run_id}/bank-return", files={"returned": ("r.xlsx", f)})
    assert r.status_code == 200 and 'id="state">已发放<' in r.text
    assert [(e["action"], e["result"]) for e in _log(app)][-2:] == [
        ("bank_reconcile", "ok"),
        ("release_done", "ok"),
    ]


def test_the_reviewer_is_a_role_bound_to_a_town(
    app: Any, browser: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from click.testing import CliRunner

    from conftest import PASSWORD
    from subsidy_engine.cli.main import main

    _, run_id = _run(app, browser, tmp_path)
    add_user(app, "admin", "admin")
    admin = browser("admin")
    assert '<option value="reviewer">审核人</option>' in admin.get("/admin/users").text
    r = admin.post("/admin/users", {"name": "new", "role": "reviewer", "town": "", "password": PASSWORD})
    assert r.status_code == 400 and "审核人必须选择所属乡镇" in r.text
    r = admin.post(
        "/admin/users", {"name": "new", "role": "reviewer", "town": "兴隆镇", "password": PASSWORD}
    )
    assert r.status_code == 200 and 'data-user="new"' in r.text
    new = browser("new")
    home = new.get("/")
    assert str(home.url).endswith("/runs") and run_id in home.text and "new(审核人 · 兴隆镇)" in home.text
    assert new.get(f"/runs/{run_id}").status_code == 200
    assert (
        new.post("/uploads", files={"roster": ("r.csv", b"x")}).status_code == 403
    )  # reviewers do not upload
    with app.state.sessions() as db:
        uid = db.scalar(select(User.id).where(User.name == "new"))
    r = admin.post(f"/admin/users/{uid}", {"role": "reviewer", "town": ""})  # an edit keeps the town rule
    assert r.status_code == 400 and "审核人必须选择所属乡镇" in r.text
    monkeypatch.setenv("DATABASE_URL", app.state.settings.database_url)
    data = str(app.state.settings.data_dir)
    args = ["users", "add", "r2", "--role", "reviewer", "--password-stdin", "--data", data]
    r = CliRunner().invoke(main, args, input="s3cret-pass\n")
    assert r.exit_code == 2 and "审核人必须指定所属乡镇" in r.stderr
    r = CliRunner().invoke(main, [*args, "--town", "兴隆镇"], input="s3cret-pass\n")
    assert r.exit_code == 0 and r.stdout == "已新增用户 r2(reviewer,兴隆镇)\n"
