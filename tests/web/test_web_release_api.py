"""Review, approval and the bank through the API, on both stores: the pages' rules with JSON errors, the bank
file refused before approval, a return with paid, failed, unknown and missing lines, re-issue and write-off,
the routes in the OpenAPI document, each step in the access log."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from release_helpers import bank_lines, bank_return, release_roster
from sqlalchemy import update
from test_web_api import _client, _token

from conftest import add_user
from subsidy_engine.web import accesslog
from subsidy_engine.web.models import User

ROUTES = {
    ("/runs/{run_id}/submit", "post"),
    ("/runs/{run_id}/approve", "post"),
    ("/runs/{run_id}/return", "post"),
    ("/runs/{run_id}/release", "get"),
    ("/runs/{run_id}/release", "post"),
    ("/runs/{run_id}/bank-file", "get"),
    ("/runs/{run_id}/bank-return", "post"),
    ("/runs/{run_id}/reissue", "post"),
}


def _users(app: Any, monkeypatch: Any) -> tuple[Any, Any]:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "shenhe", "reviewer", "兴隆镇")
    return (_client(app, _token(app, name, monkeypatch)) for name in ("xinglong", "shenhe"))  # type: ignore[return-value]


def _run(api: Any, roster: Path) -> str:
    with roster.open("rb") as f:
        up = api.post("/api/v1/uploads", files={"file": (roster.name, f)}).json()
    r = api.post(f"/api/v1/uploads/{up['id']}/runs", json={"period": "2023-09"})
    assert r.status_code == 202 and api.get(f"/api/v1/runs/{r.json()['id']}").json()["status"] == "done"
    return str(r.json()["id"])


def _error(r: Any, status: int, code: str, text: str = "") -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and text in r.json()["error"]["message"], r.text


def test_the_month_through_the_api(app: Any, tmp_path: Path, monkeypatch: Any) -> None:
    caseworker, reviewer = _users(app, monkeypatch)
    add_user(app, "shuanghe", "reviewer", "双河镇")
    other = _client(app, _token(app, "shuanghe", monkeypatch))
    run_id = _run(caseworker, release_roster(tmp_path / "roster.csv"))
    base = f"/api/v1/runs/{run_id}"
    assert caseworker.get(f"{base}/release").json()["state"] == "草稿"
    _error(caseworker.get(f"{base}/bank-file"), 409, "not_approved", "审核通过(已审核)后才能导出代发文件")
    _error(reviewer.post(f"{base}/approve", json={}), 409, "wrong_state")

    r = caseworker.post(f"{base}/submit")
    assert r.status_code == 200 and r.json()["state"] == "已提交"
    warnings = r.json()["warnings"]
    codes = [w["code"] for w in warnings]
    assert codes == ["ID_INVALID", "HEAD_DECEASED", "HOUSEHOLDS_LEFT_OUT"]
    assert warnings[1] == {
        "code": "HEAD_DECEASED",
        "title": "户主已死亡仍为低保领款人",
        "households": 1,
        "amount": "370.00",
    }
    _error(caseworker.post(f"{base}/approve", json={"acknowledged": codes}), 403, "wrong_role")
    _error(other.post(f"{base}/approve", json={"acknowledged": codes}), 404, "not_found")
    _error(
        reviewer.post(f"{base}/approve", json={"acknowledged": codes[:2]}),
        409,
        "unacknowledged",
        "还有 1 条提示未确认:未通过校验、未参与计算的户",
    )
    r = reviewer.post(f"{base}/approve", json={"acknowledged": codes})
    assert (
        r.status_code == 200 and r.json()["state"] == "已审核" and r.json()["acknowledged"] == sorted(codes)
    )
    _error(reviewer.post(f"{base}/return", json={"reason": "晚了"}), 409, "wrong_state")

    # the bank file: the first batch, made on the first call; its control line against the approved list
    r = reviewer.get(f"{base}/bank-file")
    assert r.status_code == 200
    head, lines, control = bank_lines(r.content)
    total = sum(Decimal(x["金额"]) for x in lines)
    out = reviewer.get(f"{base}/release").json()
    (batch,) = out["batches"]
    assert head[1] == batch["number"] and control == ["笔数", str(len(lines)), "总金额", f"{total:.2f}"]
    status = caseworker.get(base).json()
    assert total + Decimal(batch["held_total"]) == Decimal(status["totals"]["grand"]["金额"])
    assert reviewer.get(f"{base}/bank-file").content == r.content  # the same batch, byte for byte
    assert reviewer.get(f"{base}/bank-file", params={"format": "xlsx"}).content.startswith(b"PK")
    _error(other.get(f"{base}/bank-file"), 404, "not_found")

    # the return: 1 paid, 2 failed, 3 not returned, 4 paid, and a line never sent
    ret = bank_return(tmp_path / "回盘.csv", lines, {2: ("failed", "账户已冻结"), 3: "missing", 0: 1})
    with ret.open("rb") as f:
        r = caseworker.post(f"{base}/bank-return", files={"file": ("回盘.csv", f)})
    assert r.status_code == 200, r.text
    (batch,) = r.json()["batches"]
    counts = {k: v["count"] for k, v in batch["counts"].items()}
    assert counts == {"sent": 4, "paid": 2, "failed": 1, "held": 1, "unresolved": 1}
    assert {e["code"] for e in batch["errors"]} == {"UNKNOWN_LINE", "NOT_RETURNED"}
    unpaid = r.json()["unpaid"]
    assert sorted(u["kind"] for u in unpaid) == ["failed", "held", "unresolved"]
    _error(caseworker.post(f"{base}/release", json={}), 409, "unpaid", "还有 3 笔未发放")

    r = caseworker.post(f"{base}/reissue")
    assert r.status_code == 201 and r.json()["reissue"] and r.json()["lines"] == 1 and r.json()["held"] == 1
    _, relines, _ = bank_lines(caseworker.get(f"{base}/bank-file").content)
    assert [(x["姓名"], x["金额"]) for x in relines] == [("刘桂兰", "90.00")]
    with bank_return(tmp_path / "回盘2.csv", relines, {}).open("rb") as f:
        r = caseworker.post(f"{base}/bank-return", files={"file": ("回盘2.csv", f)})
    assert r.status_code == 200 and r.json()["state"] == "已审核"
    offs = {
        u["key"]: "银行确认已入账" if u["kind"] == "unresolved" else "账号待更正,下月补发"
        for u in r.json()["unpaid"]
    }
    assert len(offs) == 2
    r = reviewer.post(f"{base}/release", json={"written_off": offs})
    assert r.status_code == 200 and r.json()["state"] == "已发放"
    _error(caseworker.post(f"{base}/reissue"), 409, "released")

    doc = caseworker.get("/api/v1/openapi.json").json()
    have = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert have >= ROUTES
    entries = list(accesslog.entries(app.state.engine))
    via_api = [(e["action"], e["result"]) for e in entries if '"via": "api"' in e["detail"]]
    for step in ("release_submit", "release_approve", "bank_export", "bank_reissue", "release_done"):
        assert (step, "ok") in via_api, step
    assert ("bank_reconcile", "errors") in via_api and ("release_approve", "refused") in via_api
    calls = [e["target"] for e in entries if e["action"] == "api"]  # (a run id may be masked in part)
    assert any(c.startswith("POST /api/v1/runs/") and c.endswith("/approve") for c in calls)
    assert any(c.startswith("GET /api/v1/runs/") and c.endswith("/bank-file") for c in calls)


def test_the_api_refuses_ones_own_run(app: Any, tmp_path: Path, monkeypatch: Any) -> None:
    caseworker, reviewer = _users(app, monkeypatch)
    run_id = _run(caseworker, release_roster(tmp_path / "roster.csv", dead_head=False, bad_household=False))
    base = f"/api/v1/runs/{run_id}"
    assert caseworker.post(f"{base}/submit").json()["warnings"] == []
    with app.state.sessions() as db:
        db.execute(update(User).where(User.name == "xinglong").values(role="reviewer"))
        db.commit()
    _error(caseworker.post(f"{base}/approve", json={}), 403, "own_run", "不能审核自己计算或上传的运行")
    _error(reviewer.post(f"{base}/return", json={"reason": " "}), 409, "no_reason")
    r = reviewer.post(f"{base}/return", json={"reason": "低保金额请复核"})
    assert (
        r.status_code == 200
        and r.json()["state"] == "已退回"
        and r.json()["returned_reason"] == "低保金额请复核"
    )
