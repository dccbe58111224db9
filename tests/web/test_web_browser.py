"""In a real browser (Playwright driving Debian's Chromium): sign in, upload the seed roster, see the report,
run 2023, read the totals the CLI prints, download the payment list byte-for-byte the CLI's.

Screenshots go to a temporary folder, or to docs/screenshots/ with SUBSIDY_SCREENSHOTS=1 (`make screenshots`).
"""

from __future__ import annotations

import csv
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSWORD, ROOT, SEED, add_user, need, town_roster
from subsidy_engine.web.app import create_app
from subsidy_engine.web.config import Settings
from subsidy_engine.web.labels import yuan
from subsidy_engine.web.worker import work

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    import uvicorn

    data = tmp_path / "data"
    data.mkdir()
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 's.db'}", secret_key="browser")
    app = create_app(settings)
    stop = threading.Event()  # one worker, as `subsidy serve` starts: the run page waits for it
    worker = threading.Thread(target=work, args=(settings, stop), kwargs={"poll": 0.2}, daemon=True)
    worker.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    stop.set()
    thread.join(10)
    worker.join(60)
    app.state.engine.dispose()


def _shots() -> Path:
    if os.environ.get("SUBSIDY_SCREENSHOTS") == "1":
        path = ROOT / "docs" / "screenshots"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(os.environ.get("TMPDIR", "/tmp")) / "subsidy-screenshots"


def test_a_caseworker_runs_the_seed_roster_in_a_browser(
    server: tuple[str, Any], cli_seed: Path, tmp_path: Path
) -> None:
    if not CHROMIUM.is_file():
        need("Chromium", f"{CHROMIUM} is missing")
    from playwright.sync_api import expect, sync_playwright

    url, app = server
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "auditor", "auditor")
    shots = tmp_path  # the pages' screenshots for docs/ come from test_web_pages_browser.py
    with (cli_seed / "totals.csv").open(encoding="utf-8") as f:
        totals = list(csv.DictReader(f))
    with (cli_seed / "payments.csv").open(encoding="utf-8") as f:
        payments = list(csv.DictReader(f))
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = chrome.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(180_000)  # a busy CI machine: the seed roster is read in a child process
        page.goto(f"{url}/login")
        page.screenshot(path=shots / "login.png")
        page.get_by_label("用户名").fill("xinglong")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{url}/uploads")

        page.set_input_files("input[name=roster]", town_roster(tmp_path, "兴隆镇", bad=True))
        page.get_by_role("button", name="上传并校验").click()
        expect(page.locator("#rejects tbody tr")).to_have_count(1)
        expect(page.locator("#rejects .reason")).to_have_attribute("title", "ID_CHECKSUM")
        page.screenshot(path=shots / "rejects.png", full_page=True)

        page.goto(f"{url}/uploads")
        page.set_input_files("input[name=roster]", SEED)
        page.get_by_role("button", name="上传并校验").click()
        expect(page.locator("#rows-read")).to_have_text("26,001", timeout=180_000)
        expect(page.locator("#no-rejects")).to_be_visible()
        page.get_by_label("期间").fill("2023")
        page.get_by_role("button", name="计算").click()
        expect(page.locator("#totals-programs")).to_be_visible(timeout=180_000)
        page.screenshot(path=shots / "run.png", full_page=True)

        for t in totals:
            if t["规则"] == "" and t["乡镇"] == "":
                row = page.locator(f'#totals-programs tr[data-program="{t["项目"]}"]')
                expect(row.locator("td.amount")).to_have_text(yuan(t["金额"]))
            elif t["项目"] == "" and t["行政村"]:
                row = page.locator(f'#totals-villages tr[data-village="{t["行政村"]}"]')
                expect(row.locator("td.amount")).to_have_text(yuan(t["金额"]))
        grand = next(t for t in totals if t["项目"] == "" and t["乡镇"] == "")
        expect(page.locator("#grand-total")).to_have_text(f"{yuan(grand['金额'])} 元")

        page.locator("#machine-files summary").click()
        link = page.locator('a[data-kind="payments.csv"]')
        expect(link).to_be_visible()
        # fetched with the page's cookies rather than through a download event, which a busy machine lost once
        got = page.request.get(f"{url}{link.get_attribute('href')}")
        assert got.status == 200, (got.status, got.text()[:300])
        assert "attachment" in got.headers["content-disposition"]
        assert got.body() == (cli_seed / "payments.csv").read_bytes()

        run_url = page.url
        household = payments[0]["户编号"]
        page.get_by_label("户编号").fill(household)
        page.get_by_role("button", name="解释").click()
        expect(page.locator("#explain")).to_contain_text(f"户编号 {household}")
        page.screenshot(path=shots / "explain.png")

        page.goto(f"{url}/runs")
        page.screenshot(path=shots / "history.png")
        page.get_by_role("button", name="退出").click()

        page.get_by_label("用户名").fill("auditor")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.goto(run_url)
        page.get_by_role("button", name="按清单重新计算并逐字节比对").click()
        expect(page.locator("#verdict")).to_have_text("一致", timeout=180_000)
        page.goto(run_url)
        paid = tmp_path / "paid.csv"
        lines = (cli_seed / "payments.csv").read_bytes().splitlines(keepends=True)
        paid.write_bytes(b"".join(lines[:-3]))  # the last three lines were not paid
        page.set_input_files("input[name=paid]", paid)
        page.get_by_role("button", name="比对并核查").click()
        expect(page.locator("#verdict")).to_have_text("不一致", timeout=180_000)
        expect(page.locator("#findings")).to_contain_text("应享未享")
        expect(page.locator("#report")).to_contain_text("应发未发 3 笔")
        page.screenshot(path=shots / "audit.png")
        chrome.close()
