"""The API: bearer tokens from `subsidy users token`, a run through it gives the CLI's bytes, JSON errors with
stable codes, 401 without a token, 404 for another town's objects, every route in the OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import SEED, add_user, town_roster
from subsidy_engine.cli.main import main
from subsidy_engine.web import accesslog
from subsidy_engine.web.api import API_FILES


def _token(app: Any, name: str, monkeypatch: Any) -> str:
    settings = app.state.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    res = CliRunner().invoke(main, ["users", "token", name, "--data", str(settings.data_dir)])
    assert res.exit_code == 0, res.output
    token = res.stdout.strip().splitlines()[-1]
    assert token.startswith("sbt_")
    return token


def _client(app: Any, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, headers=headers)


def test_a_run_through_the_api_gives_the_clis_bytes(app: Any, tmp_path: Path, monkeypatch: Any) -> None:
    cli = tmp_path / "cli"  # what `subsidy evaluate --format csv,xlsx` and `subsidy publish` write
    args = ["evaluate", str(SEED), "--period", "2023", "--format", "csv,xlsx", "--out", str(cli)]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, ["publish", str(cli)]).exit_code == 0
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    api = _client(app, _token(app, "xinglong", monkeypatch))
    with SEED.open("rb") as f:
        r = api.post("/api/v1/uploads", files={"file": ("roster.xlsx", f)})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["rows"] == 26001 and up["accepted"] + up["rejected"] == up["rows"]
    r = api.post(f"/api/v1/uploads/{up['id']}/runs", json={"period": "2023"})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    run_id = r.json()["id"]
    status = api.get(f"/api/v1/runs/{run_id}").json()
    assert status["status"] == "done" and status["totals"]["grand"]["金额"]
    for name, rel in API_FILES.items():
        r = api.get(f"/api/v1/runs/{run_id}/files/{name}")
        assert r.status_code == 200, name
        if name != "manifest.json":
            assert r.content == (cli / rel).read_bytes(), name
    # the manifest names the roster file where it was read: the stored copy, not the CLI's; all else is equal
    manifest = api.get(f"/api/v1/runs/{run_id}/files/manifest.json").content
    ours, theirs = (json.loads(b) for b in (manifest, (cli / "manifest.json").read_bytes()))
    assert ours["input"].pop("path") != theirs["input"].pop("path")
    ours["input"].pop("file"), theirs["input"].pop("file")
    assert ours == theirs
    r = api.get(f"/api/v1/runs/{run_id}/files/secret.key")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_such_file"
    again = api.post(f"/api/v1/uploads/{up['id']}/runs", json={"period": "2023"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_run"
    assert "重新计算" in again.json()["error"]["message"]
    household = next(
        line.split(",")[3] for line in (cli / "payments.csv").read_text(encoding="utf-8").splitlines()[1:2]
    )
    r = api.get(f"/api/v1/runs/{run_id}/explain", params={"household": household})
    assert r.status_code == 200 and r.json()
    actions = [e["action"] for e in accesslog.entries(app.state.engine)]
    assert actions.count("api") >= 8 and "download" in actions and "explain" in actions


def test_the_api_refuses_without_a_token_and_hides_other_towns(
    app: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "shuanghe", "caseworker", "双河镇")
    own = _client(app, _token(app, "xinglong", monkeypatch))
    other_token = _token(app, "shuanghe", monkeypatch)
    other = _client(app, other_token)
    with town_roster(tmp_path, "兴隆镇").open("rb") as f:
        up = own.post("/api/v1/uploads", files={"file": ("r.csv", f)}).json()
    run_id = own.post(f"/api/v1/uploads/{up['id']}/runs", json={"period": "2023"}).json()["id"]
    for c, expected in ((_client(app, None), 401), (_client(app, "sbt_wrong"), 401), (other, 404)):
        r = c.get(f"/api/v1/runs/{run_id}")
        assert r.status_code == expected and r.json()["error"]["code"] in ("unauthorized", "not_found")
        assert c.post(f"/api/v1/uploads/{up['id']}/runs", json={"period": "2024"}).status_code == expected
    r = _client(app, None).post("/api/v1/uploads", files={"file": ("r.csv", b"x" * 10)})
    assert r.status_code == 401 and "令牌" in r.json()["error"]["message"]
    bad = own.post(f"/api/v1/uploads/{up['id']}/runs", json={"periodd": "2023"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    settings = app.state.settings
    res = CliRunner().invoke(
        main, ["users", "token", "shuanghe", "--revoke", "--data", str(settings.data_dir)]
    )
    assert res.exit_code == 0, res.output
    assert other.get(f"/api/v1/runs/{run_id}").status_code == 401
    refused = [
        e for e in accesslog.entries(app.state.engine) if e["action"] == "api" and e["result"] == "401"
    ]
    assert len(refused) >= 4


def test_every_api_route_is_in_the_openapi_document(app: Any, browser: Any, monkeypatch: Any) -> None:
    add_user(app, "auditor", "auditor")
    doc = _client(app, _token(app, "auditor", monkeypatch)).get("/api/v1/openapi.json").json()
    documented = {(m.upper(), "/api/v1" + p) for p, ops in doc["paths"].items() for m in ops}
    routes = {
        (m, "/api/v1" + r.path)
        for r in app.state.api.routes
        if getattr(r, "methods", None) and r.path not in ("/openapi.json",)
        for m in r.methods
        if m != "HEAD"
    }
    assert routes and routes == documented
    expected = {
        ("POST", "/api/v1/uploads"),
        ("POST", "/api/v1/uploads/{upload_id}/runs"),
        ("GET", "/api/v1/runs/{run_id}"),
        ("GET", "/api/v1/runs/{run_id}/files/{name}"),
        ("GET", "/api/v1/runs/{run_id}/explain"),
        ("POST", "/api/v1/runs/{run_id}/explain"),
        ("GET", "/api/v1/runs/{run_id}/release"),
        ("POST", "/api/v1/runs/{run_id}/submit"),
        ("POST", "/api/v1/runs/{run_id}/approve"),
        ("POST", "/api/v1/runs/{run_id}/return"),
        ("GET", "/api/v1/runs/{run_id}/bank-file"),
        ("POST", "/api/v1/runs/{run_id}/reissue"),
        ("POST", "/api/v1/runs/{run_id}/bank-return"),
        ("POST", "/api/v1/runs/{run_id}/release"),
    }
    assert documented == expected
    assert _client(app, None).get("/api/v1/openapi.json").status_code == 401
    page = browser("auditor").get("/api/docs")  # the docs page for signed-in users
    assert page.status_code == 200 and all(p in page.text for _, p in expected)
