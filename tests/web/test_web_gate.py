"""The gate in front of every request: an anonymous POST is refused before its body is read, a body is
counted while it streams (413 past the limit, nothing kept), and every response carries the security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.formparsers import MultiPartParser
from starlette.types import Message, Receive, Scope, Send

from conftest import add_user, town_roster

CHUNK = 64 * 1024
BOUNDARY = "hostileboundary"


class Trickle:
    """Hands the app a request body in 64 KB messages, as a socket would, and counts what the app pulled
    (the TestClient joins a generator body into one message before the app sees it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pulled = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending: list[bytes] = []
        done = False

        async def trickle() -> Message:
            nonlocal pending, done
            if not pending and not done:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                body = message.get("body", b"")
                pending = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
                done = not message.get("more_body", False)
            if not pending:
                return await receive()
            chunk = pending.pop(0)
            self.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or not done}

        await self.app(scope, trickle, send)


def _multipart(megabytes: int) -> Iterator[bytes]:
    """A roster upload of `megabytes` MB, sent chunked (no Content-Length)."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="roster"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    for _ in range(megabytes):
        yield b"x" * (1 << 20)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the multipart parser's runs."""
    calls: list[int] = []
    real = MultiPartParser.parse

    async def counting(self: MultiPartParser) -> Any:
        calls.append(1)
        return await real(self)

    monkeypatch.setattr(MultiPartParser, "parse", counting)
    return calls


def test_an_anonymous_chunked_upload_is_refused_before_its_body_is_read(
    app: Any, parses: list[int], tmp_path: Path
) -> None:
    shim = Trickle(app)
    r = TestClient(shim, follow_redirects=False).post(
        "/uploads",
        content=_multipart(8),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert shim.pulled == 0 and parses == []
    uploads = app.state.settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_signed_in_chunked_upload_past_the_limit_stops_at_the_limit_with_413(
    app: Any, browser: Any, parses: list[int]
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    shim = Trickle(app)
    client = TestClient(shim, follow_redirects=False, cookies=b.client.cookies)
    r = client.post(
        "/uploads",
        content=_multipart(8),  # 8 MB against the tests' 3 MB limit
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert r.status_code == 413 and "文件超过上传大小限制 3 MB" in r.text
    limit = app.state.settings.max_upload_bytes
    assert limit < shim.pulled <= limit + 2 * CHUNK + CHUNK  # read up to the limit (plus slack), no further
    assert len(parses) == 1
    uploads = app.state.settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    assert b.get("/uploads").status_code == 200


def test_a_post_the_browser_marks_cross_site_is_refused_before_its_body(
    app: Any, browser: Any, parses: list[int], tmp_path: Path
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    with town_roster(tmp_path, "兴隆镇").open("rb") as f:
        r = b.client.post(
            "/uploads",
            data={"csrf": b.token},
            files={"roster": ("r.csv", f)},
            headers={"sec-fetch-site": "cross-site"},
        )
    assert r.status_code == 403 and "跨站" in r.text and parses == []


def test_the_sign_in_form_takes_no_large_body(app: Any) -> None:
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"name": "x" * 100_000, "password": "y"})
    assert r.status_code == 413


HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _secured(r: Any, *, store: bool = False) -> None:
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name)
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    if not store:
        assert r.headers.get("cache-control") == "no-store", r.request.url


def test_every_kind_of_response_carries_the_security_headers(
    app: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    r = b.post(f"/uploads/{str(r.url).rsplit('/', 1)[1]}/runs", {"period": "2023"})
    run_id = str(r.url).rsplit("/", 1)[1]
    raw = b.client
    _secured(raw.get("/login"))  # a page
    _secured(raw.get("/", follow_redirects=False))  # a redirect
    _secured(raw.get(f"/runs/{run_id}/files/payments.csv"))  # a download
    _secured(raw.get(f"/runs/{run_id}/files/nothing"))  # an error page
    _secured(raw.get("/static/app.css"), store=True)  # a static file (no personal data: may be cached)
    _secured(TestClient(app).post("/uploads", follow_redirects=False))  # the gate's own answer
    monkeypatch.setattr("subsidy_engine.web.routes.runs.bar_chart", lambda *a: 1 / 0)
    crash = TestClient(app, raise_server_exceptions=False, cookies=raw.cookies).get(f"/runs/{run_id}")
    assert crash.status_code == 500 and "服务器内部错误" in crash.text and "Traceback" not in crash.text
    _secured(crash)
