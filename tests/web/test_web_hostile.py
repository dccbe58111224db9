"""Hostile uploads through the web app: every file of the hostile-input corpus (tests/hostile/corpus.py) gets the
answer `subsidy validate` gives it (exit 3 ↔ 400 with the same message, ID-shaped numbers masked; exit 0 or 1 ↔
the validation report with the same rows accepted and the same reason codes), never a traceback, and the server
answers the next request. The reading happens in the sandbox's child process, so even a reader that crashes or
runs out of memory costs one request only.
"""

from __future__ import annotations

import dataclasses
import html
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_files import mangled_ids_csv

from conftest import ROOT, Browser, add_user, town_roster
from subsidy_engine.web.app import create_app
from subsidy_engine.web.config import Settings
from subsidy_engine.web.masking import mask_text
from subsidy_engine.web.services.uploads import SNIFF, sniff

sys.path.insert(0, str(ROOT / "tests" / "hostile"))
from corpus import BUILDERS, case

ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
LIMITS_MESSAGE = "文件无法读取:超出内存/时间限制"


def _settings(tmp_path: Path, **limits: Any) -> Settings:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    base = Settings(data_dir=data, database_url=f"sqlite:///{data / 'h.db'}", secret_key="hostile")
    # a tighter child than the default (2 GB): the bomb reaches the wall sooner; a 26-column roster needs ~0.4 GB
    return dataclasses.replace(
        base, **{"sandbox_memory_bytes": 768 * 1024 * 1024, "sandbox_seconds": 60, **limits}
    )


@pytest.fixture
def caseworker(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    app = create_app(_settings(tmp_path))
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    yield app, _signed_in(app)
    app.state.engine.dispose()


def _signed_in(app: Any) -> Any:
    b = Browser(app)
    assert b.sign_in("xinglong").status_code == 200
    return b


def _refused_cleanly(r: Any, name: str) -> str:
    assert r.status_code in (400, 413), (name, r.status_code)
    m = ERROR.search(r.text)
    assert m and re.search(r"[\u4e00-\u9fff]", m.group(1)), (name, r.text[-2000:])
    assert "Traceback" not in r.text and 'File "' not in r.text, name
    return html.unescape(m.group(1))


def _still_answers(b: Any) -> None:
    r = b.get("/")
    assert r.status_code == 200 and str(r.url).endswith("/uploads")


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_file_of_the_hostile_corpus_gets_the_clis_answer_and_the_server_goes_on(
    name: str, caseworker: tuple[Any, Any], tmp_path: Path
) -> None:
    app, b = caseworker
    c = case(name)
    path = tmp_path / c.filename
    path.write_bytes(c.data)
    r = b.upload(path)
    assert "Traceback" not in r.text
    if c.expected.exit == 3:
        message = _refused_cleanly(r, name)
        assert str(app.state.settings.data_dir) not in message
        same_type = sniff(c.data[:SNIFF], c.data[-4:]) == path.suffix.lstrip(".")
        if (
            same_type
        ):  # the web app judges a file by its content: a mislabelled one is refused in its own words
            assert mask_text(c.expected.message) in message, (name, message)
        assert not any((app.state.settings.data_dir / "uploads").iterdir())
    else:
        assert r.status_code == 200, (name, r.text[-2000:])
        read = int(re.search(r'id="rows-read">(\d+)<', r.text).group(1))  # type: ignore[union-attr]
        rejected = int(re.search(r'id="rows-rejected">(\d+)<', r.text).group(1))  # type: ignore[union-attr]
        if c.expected.accepted is not None:
            assert read - rejected == c.expected.accepted, name
        for code in c.expected.reasons:
            assert f'class="reason" title="{code}"' in r.text, (name, code)  # the code in a tooltip
    _still_answers(b)


def test_excel_mangled_ids_get_the_report_with_every_row_rejected_and_nothing_shown_raw(
    caseworker: tuple[Any, Any], tmp_path: Path
) -> None:
    _, b = caseworker
    r = b.upload(mangled_ids_csv(tmp_path / "mangled.csv"))
    assert r.status_code == 200 and 'id="rows-rejected">60<' in r.text, r.text[-2000:]
    assert "科学计数法" in r.text and "5.00119E+17" not in r.text
    _still_answers(b)


@pytest.mark.parametrize(
    "limits", [{"sandbox_seconds": 0.3}, {"sandbox_memory_bytes": 48 * 1024 * 1024}], ids=["time", "memory"]
)
def test_a_child_over_its_limits_is_a_400_and_nothing_is_kept(limits: dict[str, Any], tmp_path: Path) -> None:
    """Limits no reader can meet (0.3 s, 48 MB: not even the imports fit) make every upload hit the wall."""
    app = create_app(_settings(tmp_path, **limits))
    try:
        add_user(app, "xinglong", "caseworker", "兴隆镇")
        b = _signed_in(app)
        message = _refused_cleanly(b.upload(town_roster(tmp_path, "兴隆镇")), str(limits))
        assert LIMITS_MESSAGE in message
        assert not any((app.state.settings.data_dir / "uploads").iterdir())
        _still_answers(b)
    finally:
        app.state.engine.dispose()
