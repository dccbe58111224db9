"""The pages as a township office sees them, in Debian's Chromium (Playwright): the caseworker, reviewer, auditor
and admin journeys at 1366 px and on a 390 px phone. Formatted numbers, no English code in the default views,
Excel-ready downloads (BOM, IDs as text), the printable 公示 per 行政村, the rejected-household banner, the
approval with the audit's warnings, no horizontal page scroll on the phone. Every page is saved at both widths (docs/screenshots/ with SUBSIDY_SCREENSHOTS=1)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from test_web_browser import ARGS, CHROMIUM, _shots, server  # noqa: F401  (the fixture)

from conftest import PASSWORD, SEED, add_user, need, town_roster
from subsidy_engine.privacy import mask_id
from subsidy_engine.web.labels import count, yuan

WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
# English words a default view must not show (codes live in title attributes and machine downloads only)
CODES = re.compile(
    r"\b(dibao|tekun|medical_premium|education_aid|migrant_transport|disability_\w+|"
    r"[A-Z]{2,}_[A-Z_]+|manifest|@20\d\d)\b"
)


def _visible_text(page: Any) -> str:
    return str(page.evaluate("document.body.innerText"))


# every visible text's colour against the first opaque background behind it (WCAG ratio; 3:1 for large text)
LOW_CONTRAST = """() => {
  const rgb = (c) => { const p = c.match(/[\\d.]+/g).map(Number); return p.length > 3 && p[3] < 1 ? null : p; };
  const lum = (p) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(p[0]) + 0.7152 * f(p[1]) + 0.0722 * f(p[2]); };
  const behind = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c) return c; } return [255, 255, 255]; };
  const low = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), seen = new Set();
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!walk.currentNode.textContent.trim() || seen.has(el) || !el.getClientRects().length) continue;
    seen.add(el);
    const s = getComputedStyle(el), fg = rgb(s.color);
    if (!fg || s.visibility === "hidden") continue;
    const [a, b] = [lum(fg), lum(behind(el))].sort((x, y) => y - x), ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(s.fontSize), large = size >= 24 || (parseInt(s.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) low.push([el.tagName, el.textContent.trim().slice(0, 20), s.color, ratio.toFixed(2)]);
  }
  return low;
}"""


def _check_page(page: Any, shots: Path, name: str, *, full: bool = True) -> None:
    """No code in the visible text; a screenshot at 1366 px and at 390 px, where nothing scrolls sideways."""
    text = _visible_text(page)
    assert not CODES.search(text), (name, CODES.search(text))
    low = page.evaluate(LOW_CONTRAST)
    assert not low, (name, low)
    page.set_viewport_size(WIDE)
    page.screenshot(path=shots / f"{name}-1366.png", full_page=full)
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, (name, width)
    for box in page.locator("main button:visible, main a.button:visible").all()[:12]:
        assert box.bounding_box()["height"] >= 44, name
    page.screenshot(path=shots / f"{name}-390.png", full_page=full)
    page.set_viewport_size(WIDE)


def _sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_the_journeys_read_like_a_township_office(server: Any, cli_seed: Path, tmp_path: Path) -> None:  # noqa: F811
    if not CHROMIUM.is_file():
        need("Chromium", f"{CHROMIUM} is missing")
    from playwright.sync_api import expect, sync_playwright

    url, app = server
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    add_user(app, "shenhe", "reviewer", "兴隆镇")
    add_user(app, "auditor", "auditor")
    add_user(app, "admin", "admin")
    shots = _shots()
    shots.mkdir(parents=True, exist_ok=True)
    with (cli_seed / "totals.csv").open(encoding="utf-8") as f:
        totals = list(csv.DictReader(f))
    grand = next(t for t in totals if t["项目"] == "" and t["乡镇"] == "")
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = chrome.new_page(viewport=WIDE, accept_downloads=True)
        page.set_default_timeout(180_000)  # a busy CI machine: the seed roster is read in a child process

        # admin: towns from a table with the 公示 settings, users with a town picked, not typed
        _sign_in(page, url, "admin")
        page.goto(f"{url}/admin/towns")
        page.locator("form[action='/admin/towns'] input[name=name]").fill("兴隆镇")  # already there: refused
        page.locator("form[action='/admin/towns'] button").click()
        expect(page.locator("#admin-error")).to_contain_text("已存在")
        row = page.locator('tr[data-town="兴隆镇"]')
        row.locator("input[name=publicity]").fill("2024年1月5日至1月11日(7天)")
        row.locator("input[name=hotline]").fill("023-71234567")
        row.get_by_role("button", name="保存").click()
        expect(page.locator('tr[data-town="兴隆镇"] input[name=hotline]')).to_have_value("023-71234567")
        _check_page(page, shots, "admin-towns")
        page.goto(f"{url}/admin/users")
        form = page.locator("#add-user")
        form.get_by_label("用户名").fill("temp")
        form.get_by_label("角色").select_option("caseworker")
        form.get_by_label("乡镇(仅经办人、审核人)").select_option("兴隆镇")
        form.get_by_label("初始密码(至少 8 位)").fill(PASSWORD)
        form.get_by_role("button", name="新增").click()
        temp = page.locator('tr[data-user="temp"]')
        temp.get_by_role("button", name="停用").click()
        _check_page(page, shots, "admin-users")
        page.get_by_role("button", name="退出").click()
        _sign_in(page, url, "temp")
        expect(page.locator("p.error")).to_have_text("该账号已停用,请联系管理员")
        _check_page(page, shots, "login")

        # caseworker: a roster with a rejected household, then the seed roster
        _sign_in(page, url, "xinglong")
        page.set_input_files("input[name=roster]", town_roster(tmp_path, "兴隆镇", bad=True))
        page.get_by_role("button", name="上传并校验").click()
        expect(page.locator("#rejects .reason")).to_have_text("证件号码校验位错误")
        expect(page.locator("#rejects .reason")).to_have_attribute("title", "ID_CHECKSUM")
        expect(page.locator("#left-out")).to_contain_text("1 户未通过校验")
        with page.expect_download() as dl:
            page.locator('a[data-kind="rejects.csv"]').click()
        data = Path(dl.value.path()).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and "证件号码校验位错误".encode() in data
        _check_page(page, shots, "upload-rejects")
        page.get_by_label("期间").fill("2023")
        page.get_by_role("button", name="计算").click()  # the confirmation box is required
        assert page.url.endswith(page.url.split("/")[-1]) and "/uploads/" in page.url
        page.get_by_label(re.compile("不参与计算")).check()
        page.get_by_role("button", name="计算").click()
        expect(page.locator("#left-out")).to_contain_text("1 户未参与计算,名单不完整")

        page.goto(f"{url}/uploads")
        _check_page(page, shots, "uploads")
        page.set_input_files("input[name=roster]", SEED)
        page.get_by_role("button", name="上传并校验").click()
        expect(page.locator("#rows-read")).to_have_text("26,001", timeout=180_000)
        page.get_by_label("期间").fill("2023")
        page.get_by_role("button", name="计算").click()
        expect(page.locator("#totals-programs")).to_be_visible(timeout=180_000)
        expect(page.locator("#grand-total")).to_have_text(f"{yuan(grand['金额'])} 元")
        assert yuan(grand["金额"]) == "6,393,238.00"
        expect(page.locator("#left-out")).to_have_count(0)
        for t in totals:
            if t["规则"] == "" and t["乡镇"] == "" and t["项目"]:
                r = page.locator(f'#totals-programs tr[data-program="{t["项目"]}"]')
                expect(r.locator("th")).to_have_text(t["项目名称"])
                expect(r.locator("td.amount")).to_have_text(yuan(t["金额"]))
                expect(r.locator("td").nth(1)).to_have_text(count(t["人次"]))
        expect(page.locator("#villages-total td").nth(2)).to_have_text(yuan(grand["金额"]))
        values = page.locator("#chart-villages .value").all_inner_texts()
        amounts = [int(v.replace(",", "").replace(".", "").removesuffix(" 元")) for v in values]
        assert amounts == sorted(amounts, reverse=True) and len(amounts) == 6
        _check_page(page, shots, "run")
        run_url = page.url

        with page.expect_download() as dl:
            page.locator('a[data-kind="payments.xlsx"]').click()
        assert dl.value.suggested_filename == "兴隆镇-2023-发放名单.xlsx"
        ws = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))["发放名单"]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws["E2"].data_type == "s"
        assert len(str(ws["E2"].value)) == 18 and ws["I2"].number_format == "#,##0.00"
        with page.expect_download() as dl:
            page.locator('a[data-kind="payments-excel.csv"]').click()
        data = Path(dl.value.path()).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and re.search(rb",\t\d{17}[\dX],", data)
        assert dl.value.suggested_filename == "兴隆镇-2023-发放名单(Excel用).csv"
        page.locator("#machine-files summary").click()
        with page.expect_download() as dl:
            page.locator('a[data-kind="payments.csv"]').click()
        assert Path(dl.value.path()).read_bytes() == (cli_seed / "payments.csv").read_bytes()
        with page.expect_download() as dl:
            page.locator('a[data-kind="publicity.xlsx"]').click()
        wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
        assert set(wb.sheetnames) == {"三和村", "兴隆社区", "永福村", "白茶村", "金禾村", "金花村"}

        # the 公示 of one village: one row per household and program, Chinese names, masked IDs, A4 print
        page.goto(f"{run_url}/publicity?village=金花村")
        sheet = page.locator('section.sheet[data-village="金花村"]')
        expect(sheet.locator("h1")).to_contain_text("兴隆镇金花村 2023")
        expect(sheet.locator(".meta")).to_contain_text("监督电话:023-71234567")
        first = sheet.locator("tbody tr").first.locator("td")
        assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", first.nth(3).inner_text())
        assert first.nth(4).inner_text() in {t["项目名称"] for t in totals}
        expect(page.locator("section.sheet")).to_have_count(1)
        page.emulate_media(media="print")
        assert page.locator("header").is_hidden() and page.locator("form").first.is_hidden()
        page.emulate_media(media="screen")
        _check_page(page, shots, "publicity", full=False)
        page.pdf(path=str(tmp_path / "publicity.pdf"), format="A4")
        assert (tmp_path / "publicity.pdf").read_bytes().startswith(b"%PDF")

        # the payment list: 11,698 lines 50 a page; a search by 证件号码 is posted and never in the address
        page.goto(run_url)
        page.locator("#payments-link").click()
        expect(page.locator("#matched-count")).to_have_text("11,698")
        expect(page.locator("#matched-total")).to_have_text(f"{yuan(grand['金额'])} 元")
        expect(page.locator("#payments tbody tr")).to_have_count(50)
        with (cli_seed / "payments.csv").open(encoding="utf-8") as f:
            lines = list(csv.DictReader(f))
        person = lines[0]["证件号码"]
        page.locator("input[name=q]").fill(person)
        page.get_by_role("button", name="查询").click()
        mine = [x for x in lines if x["证件号码"] == person]
        expect(page.locator("#matched-count")).to_have_text(count(len(mine)))
        expect(page.locator("#searched b")).to_have_text(mask_id(person))
        assert person not in page.url and person not in page.content()
        page.locator("#clear-search").click()
        page.locator("select[name=village]").select_option("金花村")
        page.get_by_role("button", name="查询").click()
        village = [x for x in lines if x["行政村"] == "金花村"]
        expect(page.locator("#matched-count")).to_have_text(count(len(village)))
        page.locator("#pager a[rel=next]").click()
        expect(page.locator("#payments tbody tr").first.locator("td").first).to_have_text("51")
        focus = {}  # by keyboard, every kind of control shows a solid ring
        for _ in range(30):
            page.keyboard.press("Tab")
            tag, style, width = page.evaluate(
                "() => { const e = document.activeElement, s = getComputedStyle(e);"
                " return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"
            )
            focus.setdefault(tag, (style, width))
        assert {"A", "BUTTON", "INPUT", "SELECT"} <= set(focus), focus
        controls = [focus[t] for t in ("A", "BUTTON", "INPUT", "SELECT")]
        assert all(style == "solid" and width >= 2 for style, width in controls), focus
        page.evaluate("document.activeElement.blur()")
        _check_page(page, shots, "payments")

        page.goto(f"{url}/runs")
        expect(page.locator("#history tbody tr")).to_have_count(2)
        expect(page.locator("#history")).to_contain_text("roster.xlsx")
        expect(page.locator("#history .badge").first).to_have_text("当前有效")
        _check_page(page, shots, "history")
        page.goto(run_url)
        page.get_by_label("户编号").fill("5001192030010041")
        page.get_by_role("button", name="解释").click()
        page.screenshot(path=shots / "explain-1366.png")
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=shots / "explain-390.png")
        page.set_viewport_size(WIDE)

        # the caseworker submits the run; a reviewer of the town sees the auditor's warnings on the list itself
        page.goto(run_url)
        page.get_by_role("button", name="提交审核").click()
        expect(page.locator("#state")).to_have_text("已提交", timeout=60000)
        page.get_by_role("button", name="退出").click()
        _sign_in(page, url, "shenhe")
        page.goto(run_url)
        dead = page.locator('fieldset.warning[data-code="HEAD_DECEASED"]')
        expect(dead.locator("legend")).to_have_text("户主已死亡仍为低保领款人:5 户,涉及金额 36,472.00 元")
        expect(dead.locator("tbody tr")).to_have_count(5)
        expect(page.locator("fieldset.warning")).to_have_count(4)
        _check_page(page, shots, "approve")
        page.get_by_role("button", name="审核通过").click()  # nothing ticked: refused, naming what is open
        expect(page.locator("p.error")).to_contain_text("还有 4 条提示未确认")
        page.goto(run_url)
        for box in page.locator("input[name=ack]").all():
            box.check()
        page.get_by_role("button", name="审核通过").click()
        expect(page.locator("#state")).to_have_text("已审核")
        expect(page.locator("#export-form")).to_be_visible()
        page.get_by_role("button", name="退出").click()

        # auditor: the comparison in tables, finding types in Chinese
        _sign_in(page, url, "auditor")
        page.goto(run_url)
        paid = tmp_path / "paid.csv"
        lines = (cli_seed / "payments.csv").read_bytes().splitlines(keepends=True)
        paid.write_bytes(b"".join(lines[:-3]))
        page.set_input_files("input[name=paid]", paid)
        page.get_by_role("button", name="比对并核查").click()
        expect(page.locator("#verdict")).to_have_text("不一致", timeout=180_000)
        expect(page.locator("#findings")).to_contain_text("应享未享")
        expect(page.locator("#report")).to_contain_text("应发未发 3 笔")
        expect(page.locator("#by-program tr.total")).to_contain_text("6,393,238.00")
        _check_page(page, shots, "audit")
        chrome.close()
