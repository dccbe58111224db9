"""Nothing shaped like a 证件号码 leaves the web app unmasked (pages, the masked rejects download, run records),
and no message shows a server path. On both stores."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import add_user, write_roster
from subsidy_engine.web.masking import mask_text, scrub_paths
from subsidy_engine.web.models import Run

MALFORMED = {  # as typed or pasted into the 证件号码 column
    "spaces": "500119 19400101 0011",
    "hyphens": "500119-1940-0101-0015",
    "letter": "50011919400I010023",
    "fifteen": "500119400101003",
    "scientific": "5.00119E+17",
    "full-width": "５００１１９１９４００１０１００４２",
}
HOUSEHOLD_AS_ID = "500119194001010057"  # a 户编号 cell holding somebody's 证件号码


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("500119194001010011", "500119********0011"),
        ("证件号码500119 19400101 0011有误", "证件号码500119********0011有误"),
        ("500119-1940-0101-001X", "500119********001X"),
        ("50011919400I010023", "500119********0023"),
        ("500119400101003", "500119********1003"),
        ("值 5.00119E+17 不是", "值 5.0011********E+17 不是"),
        ("５００１１９１９４００１０１００４２", "５００１１９********００４２"),
        ("户编号 5001192030010001", "户编号 5001192030010001"),  # the 16-digit 户编号 stays
        ("2023-01-01 2023-12-31", "2023-01-01 2023-12-31"),  # dates stay
        ("金额 12345678.90,第 3、4、5 行", "金额 12345678.90,第 3、4、5 行"),
        # a generated id in a link or a log line stays whole (it used to lose a digit run to the mask)
        (
            "/runs/7d167107c36ad1c38a9a0e3e49a1fa34/download/x",
            "/runs/7d167107c36ad1c38a9a0e3e49a1fa34/download/x",
        ),
        ("GET /runs/7d167107c36ad1c38a9a0e3e49a1fa34?q=500119194001010011", None),
        ("50011919400101001150011919400101", "500119********0101"),  # 32 digits are no id
    ],
)
def test_mask_text(text: str, masked: str | None) -> None:
    if masked is None:  # an id and a 证件号码 in one line: the id whole, the number masked
        masked = text.replace("194001010011", "********0011")
    assert mask_text(text) == masked


def test_scrub_paths() -> None:
    assert scrub_paths("/srv/data/uploads/ab12/input.csv: 编码无法识别") == "input.csv: 编码无法识别"
    named = {Path("/srv/data/uploads/ab12/input.csv"): "兴隆镇名册.csv"}
    assert scrub_paths("/srv/data/uploads/ab12/input.csv: 空的", named) == "兴隆镇名册.csv: 空的"


def _raw_forms() -> list[str]:
    forms = [*MALFORMED.values(), HOUSEHOLD_AS_ID]
    return forms + [re.sub(r"[ \-]", "", f) for f in forms]


def _roster(tmp_path: Path) -> Path:
    households: list[dict[str, Any]] = [
        {"乡镇": "兴隆镇", "members": [{"姓名": "好人", "与户主关系": "户主", "特困人员": True}]}
    ]
    households += [
        {
            "乡镇": "兴隆镇",
            "members": [{"姓名": f"错号{k}", "与户主关系": "户主", "证件号码": v, "特困人员": False}],
        }
        for k, v in MALFORMED.items()
    ]
    households.append(
        {
            "户编号": HOUSEHOLD_AS_ID,
            "乡镇": "兴隆镇",
            "户类型": "不存在的户类型",
            "members": [{"姓名": "某户", "与户主关系": "户主", "born": "1950-05-05", "特困人员": False}],
        }
    )
    return write_roster(tmp_path / "兴隆镇名册.csv", households)


def _assert_no_raw(text: str, where: str) -> None:
    for raw in _raw_forms():
        assert raw not in text, f"{raw!r} shown in {where}"


def test_malformed_ids_are_masked_on_the_rejects_page_in_the_download_and_in_every_echo(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(_roster(tmp_path))
    assert r.status_code == 200 and 'id="rows-rejected">7<' in r.text, r.text[-3000:]
    _assert_no_raw(r.text, "the rejects page")
    assert "500119********0011" in r.text and "5.0011********E+17" in r.text
    upload_id = str(r.url).rsplit("/", 1)[1]
    r = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    run_id = str(r.url).rsplit("/", 1)[1]
    rejects = b.get(f"/runs/{run_id}/files/rejects.csv")
    assert rejects.status_code == 200 and "错号spaces" in rejects.text
    _assert_no_raw(rejects.text, "the masked rejects download")
    r = b.post(f"/runs/{run_id}/explain", {"household": HOUSEHOLD_AS_ID})
    assert r.status_code == 404 and "500119********0057" in r.text
    _assert_no_raw(r.text, "the explain answer")
    r = b.post(f"/uploads/{upload_id}/runs", {"period": HOUSEHOLD_AS_ID})
    assert r.status_code == 200 and "计算失败" in r.text
    _assert_no_raw(r.text, "a failed run's page")
    _assert_no_raw(b.get("/runs").text, "the run history")
    with app.state.sessions() as db:
        for run in db.scalars(select(Run)):
            _assert_no_raw(f"{run.period} {run.error}", "a run record")


def test_a_message_about_an_unreadable_file_names_the_file_not_the_server_path(
    app: Any, browser: Any, tmp_path: Path
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    blank = tmp_path / "兴隆镇九月.csv"
    blank.write_bytes(b"\r\n\r\n\r\n")
    r = b.upload(blank)
    assert r.status_code == 400 and "兴隆镇九月.csv" in r.text
    data = str(app.state.settings.data_dir)
    assert data not in r.text and "/uploads/" not in r.text and "input.csv" not in r.text
