"""The web app under test: one store per test, parametrized over SQLite and PostgreSQL, and signed-in clients.

PostgreSQL comes from SUBSIDY_TEST_DATABASE_URL (`make test` starts a throwaway server with pg_virtualenv, see
scripts/test-services.sh). Its own name, not DATABASE_URL, because every test empties that database's public
schema. Without it the PostgreSQL half skips locally and fails under CI=true.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from helpers import household_rows
from subsidy_engine.cli.main import main
from subsidy_engine.web.app import create_app
from subsidy_engine.web.auth import create_user
from subsidy_engine.web.config import Settings, normalize_url
from subsidy_engine.web.store import make_engine

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"
PASSWORD = "correct horse 9"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(what: str, how: str) -> None:
    """Missing service: fail under CI (a skipped test counts as failing there), skip locally with the reason."""
    message = f"{what} is not available ({how}); `make test` provides it"
    if CI:
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def _postgres_url() -> str:
    url = os.environ.get("SUBSIDY_TEST_DATABASE_URL")
    if not url:
        need("PostgreSQL", "SUBSIDY_TEST_DATABASE_URL is not set")
    assert url is not None
    url = normalize_url(url)
    engine = make_engine(url)
    with engine.begin() as conn:  # a clean schema for every test
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'subsidy.db'}" if request.param == "sqlite" else _postgres_url()
    return Settings(
        data_dir=data, database_url=url, secret_key="test-secret", max_upload_bytes=3 * 1024 * 1024
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings)
    application.state.queue.inline = True  # a queued run is computed at once, by the worker's own code
    yield application
    application.state.engine.dispose()


def add_user(app: Any, name: str, role: str, town: str | None = None) -> None:
    with app.state.sessions() as db:
        create_user(db, name, PASSWORD, role, town)
        db.commit()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


class Browser:
    """A TestClient that remembers the CSRF token of the last page, as a browser's form would."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, follow_redirects=True)
        self.token = ""

    def get(self, url: str, **kw: Any) -> Any:
        r = self.client.get(url, **kw)
        m = CSRF.search(r.text)
        if m:
            self.token = m.group(1)
        return r

    def post(self, url: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
        if not self.token:
            self.get("/login")
        r = self.client.post(url, data={"csrf": self.token, **(data or {})}, **kw)
        m = CSRF.search(r.text)
        if m:
            self.token = m.group(1)
        return r

    def sign_in(self, name: str, password: str = PASSWORD) -> Any:
        self.get("/login")
        return self.post("/login", {"name": name, "password": password})

    def upload(self, path: Path, field: str = "roster", url: str = "/uploads") -> Any:
        with path.open("rb") as f:
            return self.post(url, files={field: (path.name, f, "application/octet-stream")})


@pytest.fixture
def browser(app: Any) -> Any:
    def make(name: str | None = None) -> Browser:
        b = Browser(app)
        if name:
            r = b.sign_in(name)
            assert r.status_code == 200, r.text
        return b

    return make


def write_roster(path: Path, households: list[dict[str, Any]], start_seq: int = 1) -> Path:
    rows = household_rows(households, start_seq)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def town_roster(tmp_path: Path, town: str, *, bad: bool = False, seq: int = 1) -> Path:
    """Two 特困 persons in two villages of `town` (+ one household with a wrong check character when bad)."""
    households: list[dict[str, Any]] = [
        {
            "乡镇": town,
            "行政村": "金花村",
            "members": [{"姓名": "孤老甲", "与户主关系": "户主", "born": "1940-01-01", "特困人员": True}],
        },
        {
            "乡镇": town,
            "行政村": "白茶村",
            "members": [{"姓名": "孤老乙", "与户主关系": "户主", "born": "1941-02-01", "特困人员": True}],
        },
    ]
    if bad:
        households.append(
            {
                "乡镇": town,
                "行政村": "白茶村",
                "members": [{"姓名": "错号", "与户主关系": "户主", "证件号码": "500119194001010011"}],
            }
        )
    return write_roster(tmp_path / f"roster-{town}-{seq}.csv", households, seq)


@pytest.fixture(scope="session")
def cli_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed roster's 2023 run by the CLI, once per session: the figures the web app must reproduce."""
    out = tmp_path_factory.mktemp("cli-seed") / "run"
    result = CliRunner().invoke(main, ["evaluate", str(SEED), "--period", "2023", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out
