"""Uploads, runs, downloads, explain and the auditor's checks, on both stores, with small named rosters."""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import add_user, town_roster
from subsidy_engine.cli.main import main
from subsidy_engine.web.app import MaskIds
from subsidy_engine.web.labels import yuan
from subsidy_engine.web.models import Job, Run, StoredFile, Upload


def _signed_in(app: Any, browser: Any) -> Any:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    return browser("xinglong")


def _count(app: Any, model: Any) -> int:
    with app.state.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_the_rejects_table_names_row_column_value_and_reason_with_ids_masked(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b = _signed_in(app, browser)
    r = b.upload(town_roster(tmp_path, "兴隆镇", bad=True))
    assert r.status_code == 200
    row = re.search(r'<tr class="cause">.*?<td class="num">4</td>.*?</tr>', r.text)
    assert row, r.text
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert cells[2] == "500119********0011" and cells[4] == "证件号码"
    assert cells[3].startswith('<span class="reason" title="ID_CHECKSUM">证件号码校验位错误</span>')
    assert "500119194001010011" not in r.text
    assert 'id="rows-rejected">1<' in r.text


def test_a_caseworkers_roster_with_another_towns_rows_is_refused_and_nothing_is_kept(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b = _signed_in(app, browser)
    r = b.upload(town_roster(tmp_path, "双河镇"))
    assert r.status_code == 400
    assert "名册中有 2 行属于其他乡镇(双河镇),您只能上传 兴隆镇 的名册" in r.text
    assert _count(app, Upload) == 0
    assert not any((app.state.settings.data_dir / "uploads").iterdir())


def test_the_type_is_judged_by_content_and_the_size_is_limited(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b = _signed_in(app, browser)
    png = tmp_path / "roster.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    r = b.upload(png)
    assert r.status_code == 400 and "无法识别的文件内容" in r.text
    disguised = tmp_path / "roster.xlsx"  # a CSV under an Excel name is read as the CSV it is
    disguised.write_bytes(town_roster(tmp_path, "兴隆镇").read_bytes())
    r = b.upload(disguised)
    assert r.status_code == 200 and 'id="rows-read">2<' in r.text
    big = tmp_path / "big.csv"
    big.write_bytes(b"a," * (2 * 1024 * 1024))  # 4 MB against the tests' 3 MB limit
    r = b.upload(big)
    assert r.status_code == 413 and "文件超过上传大小限制 3 MB" in r.text
    assert _count(app, Upload) == 1
    assert len(list((app.state.settings.data_dir / "uploads").iterdir())) == 1


def test_a_run_writes_the_clis_bytes_and_the_publish_list_is_masked(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b = _signed_in(app, browser)
    roster = town_roster(tmp_path, "兴隆镇", bad=True)
    r = b.upload(roster)
    upload_id = str(r.url).rsplit("/", 1)[1]
    r = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    run_id = str(r.url).rsplit("/", 1)[1]
    cli_out = tmp_path / "cli"
    res = CliRunner().invoke(main, ["evaluate", str(roster), "--period", "2023", "--out", str(cli_out)])
    assert res.exit_code == 0, res.output
    with (cli_out / "totals.csv").open(encoding="utf-8") as f:
        totals = list(csv.DictReader(f))
    tekun = next(t for t in totals if t["项目"] == "tekun" and t["规则"] == t["乡镇"] == "")
    village = next(t for t in totals if t["项目"] == "" and t["行政村"] == "金花村")
    assert re.search(
        rf'<tr data-program="tekun">.*?<td class="num amount">{yuan(tekun["金额"])}</td>', r.text, re.S
    )
    assert re.search(
        rf'<tr data-village="金花村">.*?<td class="num amount">{yuan(village["金额"])}</td>', r.text, re.S
    )
    assert r.text.count('<figure class="chart"') == 2 and "特困人员基本生活费" in r.text
    payments = b.get(f"/runs/{run_id}/files/payments.csv")
    assert payments.status_code == 200 and payments.content == (cli_out / "payments.csv").read_bytes()
    assert b.get(f"/runs/{run_id}/files/totals.csv").content == (cli_out / "totals.csv").read_bytes()
    ids = set(re.findall(rb"\d{17}[\dX]", payments.content))
    assert ids
    for kind in ("publish.csv", "rejects.csv", "manifest.json"):
        body = b.get(f"/runs/{run_id}/files/{kind}").content
        assert not ids & set(re.findall(rb"\d{17}[\dX]", body)), kind
        assert b"500119194001010011" not in body, kind
    assert b.get(f"/runs/{run_id}/files/../../secret.key").status_code == 404


def test_a_failed_run_is_recorded_with_its_reason_and_no_files(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    b = _signed_in(app, browser)
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    upload_id = str(r.url).rsplit("/", 1)[1]
    r = b.post(f"/uploads/{upload_id}/runs", {"period": "2031"})
    assert r.status_code == 200
    assert re.search(r'id="run-error">计算失败:.*2031', r.text)
    with app.state.sessions() as db:
        run = db.scalars(select(Run)).one()
        assert run.status == "failed" and run.error and "2031" in run.error
    assert _count(app, StoredFile) == 0
    runs = app.state.settings.data_dir / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_a_tampered_file_is_not_served(app: Any, browser: Any, tmp_path: Path) -> None:
    b = _signed_in(app, browser)
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023-09"})
    run_id = str(r.url).rsplit("/", 1)[1]
    path = app.state.settings.data_dir / "runs" / run_id / "payments.csv"
    path.write_bytes(path.read_bytes().replace(b"955.00", b"999.00"))
    r = b.get(f"/runs/{run_id}/files/payments.csv")
    assert r.status_code == 409 and "校验值不一致" in r.text


def test_explain_is_a_post_showing_only_the_asked_persons_id(app: Any, browser: Any, tmp_path: Path) -> None:
    b = _signed_in(app, browser)
    roster = town_roster(tmp_path, "兴隆镇")
    ids = re.findall(r"\d{17}[\dX]", roster.read_text(encoding="utf-8"))
    r = b.upload(roster)
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023-09"})
    run_id = str(r.url).rsplit("/", 1)[1]
    assert b.get(f"/runs/{run_id}/explain?person={ids[0]}").status_code == 405
    r = b.post(f"/runs/{run_id}/explain", {"person": ids[0]})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert f"证件号码 {ids[0]}" in r.text and "符合,955.00 元" in r.text
    assert ids[1] not in r.text
    r = b.post(f"/runs/{run_id}/explain", {"person": "11010119900307001X"})
    assert r.status_code == 404 and "没有该证件号码" in r.text and "11010119900307001X" not in r.text


def test_the_log_filter_masks_ids_in_access_log_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s"',
        ("127.0.0.1", "GET", "/x?p=50011919400101001X"),
        None,
    )
    assert MaskIds().filter(record)
    assert record.getMessage() == '127.0.0.1 - "GET /x?p=500119********001X"'


def test_an_auditor_reruns_identically_and_a_short_paid_list_gives_unpaid_findings(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    own = _signed_in(app, browser)
    r = own.upload(town_roster(tmp_path, "兴隆镇"))
    r = own.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023"})
    run_id = str(r.url).rsplit("/", 1)[1]
    add_user(app, "auditor", "auditor")
    auditor = browser("auditor")
    r = auditor.post(f"/runs/{run_id}/rerun")
    assert r.status_code == 200 and 'id="verdict">一致<' in r.text and "个输出文件逐字节一致" in r.text
    lines = auditor.get(f"/runs/{run_id}/files/payments.csv").content.splitlines(keepends=True)
    paid = tmp_path / "paid.csv"
    paid.write_bytes(b"".join(lines[:-1]))  # the last line was not paid
    r = auditor.upload(paid, field="paid", url=f"/runs/{run_id}/diff")
    assert r.status_code == 200 and 'id="verdict">不一致<' in r.text
    assert "UNPAID_ELIGIBLE" in r.text and "应发未发 1 笔 955.00 元" in r.text
    assert not re.search(r"\d{17}[\dX]", r.text)
    check_id = str(r.url).rsplit("/", 1)[1]
    findings = auditor.get(f"/checks/{check_id}/files/findings.csv")
    assert findings.status_code == 200 and "UNPAID_ELIGIBLE" in findings.text
    assert own.get(f"/checks/{check_id}").status_code == 404


def test_a_run_that_breaks_after_writing_leaves_no_folder_and_no_row(
    app: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _signed_in(app, browser)
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    upload_id = str(r.url).rsplit("/", 1)[1]

    def broken(run_dir: Path) -> list[Path]:
        raise OSError("disk full")

    monkeypatch.setattr("subsidy_engine.web.services.runs.publish", broken)
    r = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    assert r.status_code == 200 and "服务器内部错误(OSError)" in r.text  # the job's page says why
    with app.state.sessions() as db:
        job = db.scalars(select(Job)).one()
        assert job.status == "failed" and job.error and "未生成任何文件" in job.error
    assert _count(app, Run) == 0 and _count(app, StoredFile) == 0
    runs = app.state.settings.data_dir / "runs"
    assert not runs.exists() or not [p.name for p in runs.iterdir()]
