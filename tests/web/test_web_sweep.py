"""The data folder: at start-up what no row owns is removed, and everything in it is the owner's only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from conftest import add_user, town_roster
from subsidy_engine.web.app import create_app
from subsidy_engine.web.config import Settings


def _upload_and_run(app: Any, browser: Any, tmp_path: Path) -> tuple[str, str]:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    b = browser("xinglong")
    r = b.upload(town_roster(tmp_path, "兴隆镇"))
    upload_id = str(r.url).rsplit("/", 1)[1]
    r = b.post(f"/uploads/{upload_id}/runs", {"period": "2023"})
    return upload_id, str(r.url).rsplit("/", 1)[1]


def test_start_up_removes_the_folders_no_row_owns_and_keeps_the_rest(
    app: Any, browser: Any, settings: Settings, tmp_path: Path
) -> None:
    upload_id, run_id = _upload_and_run(app, browser, tmp_path)
    data = settings.data_dir
    orphans = [
        data / "runs" / f".{'a' * 32}.k3j2.tmp",  # a run killed while its folder was written
        data / "runs" / ("b" * 32),  # a run folder whose row was never committed
        data / "uploads" / ("c" * 32),  # an upload whose row was never committed
        data / "checks" / ("d" * 32),  # an auditor's comparison the same
    ]
    for folder in orphans:
        folder.mkdir(parents=True)
        (folder / "payments.csv").write_text("户编号,证件号码\nH1,500119194001010011\n", encoding="utf-8")
    (data / "runs" / "stray.txt").write_text("x", encoding="utf-8")
    app.state.engine.dispose()
    restarted = create_app(settings)
    try:
        assert not any(p.exists() for p in orphans) and not (data / "runs" / "stray.txt").exists()
        assert (data / "uploads" / upload_id / "input.csv").is_file()
        assert (data / "runs" / run_id / "payments.csv").is_file()
    finally:
        restarted.state.engine.dispose()


def _modes(data: Path) -> tuple[dict[str, int], dict[str, int]]:
    dirs, files = {str(data): stat.S_IMODE(data.stat().st_mode)}, {}
    for root, ds, fs in os.walk(data):
        for d in ds:
            dirs[os.path.join(root, d)] = stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode)
        for f in fs:
            files[os.path.join(root, f)] = stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode)
    return dirs, files


def test_the_data_folder_and_every_file_in_it_are_the_owners_only(
    app: Any, browser: Any, settings: Settings, tmp_path: Path
) -> None:
    old = os.umask(0o022)  # the tests' own umask must not be what makes this pass
    try:
        _upload_and_run(app, browser, tmp_path)
        dirs, files = _modes(settings.data_dir)
        assert {p: m for p, m in dirs.items() if m != 0o700} == {}
        assert {p: m for p, m in files.items() if m != 0o600} == {}
        assert any(p.endswith("payments.csv") for p in files)
        (settings.data_dir / "loose.txt").write_text("x", encoding="utf-8")
        os.chmod(settings.data_dir, 0o755)
        app.state.engine.dispose()
        restarted = create_app(settings)
        restarted.state.engine.dispose()
        dirs, files = _modes(settings.data_dir)
        assert set(dirs.values()) == {0o700} and set(files.values()) == {0o600}
        if settings.database_url.startswith("sqlite"):
            assert any(p.endswith("subsidy.db") for p in files)
    finally:
        os.umask(old)
