"""Hostile uploads through the web app: each is refused with a Chinese message (or, for row-level problems,
gets its validation report), never a traceback, and the server answers the next request. The reading happens
in the sandbox's child process, so even a reader that crashes or runs out of memory costs one request only.

The files are built here (hostile_files.py); every .csv/.xlsx of the hostile-input corpus (tests/hostile/), when
the tree has one, is uploaded as well.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_files import HOSTILE

from conftest import ROOT, add_user, town_roster
from subsidy_engine.web.app import create_app
from subsidy_engine.web.config import Settings

ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
CORPUS = ROOT / "tests" / "hostile"
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
    from conftest import Browser

    b = Browser(app)
    assert b.sign_in("xinglong").status_code == 200
    return b


def _refused_cleanly(r: Any, name: str) -> str:
    assert r.status_code in (400, 413), (name, r.status_code)
    m = ERROR.search(r.text)
    assert m and re.search(r"[\u4e00-\u9fff]", m.group(1)), (name, r.text[-2000:])
    assert "Traceback" not in r.text and 'File "' not in r.text, name
    return m.group(1)


def _still_answers(b: Any) -> None:
    r = b.get("/")
    assert r.status_code == 200 and str(r.url).endswith("/uploads")


def _corpus() -> list[str]:
    files = CORPUS.rglob("*") if CORPUS.is_dir() else []
    return sorted(str(p.relative_to(CORPUS)) for p in files if p.is_file() and p.suffix in (".csv", ".xlsx"))


CASES = list(HOSTILE) + [f"corpus/{name}" for name in _corpus()]


@pytest.mark.parametrize("name", CASES)
def test_a_hostile_upload_costs_one_request_and_the_server_goes_on(
    name: str, caseworker: tuple[Any, Any], tmp_path: Path
) -> None:
    app, b = caseworker
    if name.startswith("corpus/"):  # the hostile-input corpus: a clean refusal or a report, never a crash
        path, outcome = CORPUS / name.removeprefix("corpus/"), "either"
    else:
        build, filename, outcome = HOSTILE[name]
        path = build(tmp_path / filename)
    r = b.upload(path)
    if outcome == "refused" or (outcome == "either" and r.status_code != 200):
        message = _refused_cleanly(r, name)
        assert str(app.state.settings.data_dir) not in message
        assert not any((app.state.settings.data_dir / "uploads").iterdir())
    elif outcome == "report":
        assert r.status_code == 200 and 'id="rows-rejected">60<' in r.text, r.text[-2000:]
        assert "5.00119E+17" not in r.text
    assert "Traceback" not in r.text
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
