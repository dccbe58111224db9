"""A normal (non-editable) install computes: the wheel is built, installed into a fresh virtual environment, and
run from another folder without `--rules` — the bundled rulebook ships inside the package."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from helpers import run

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; the dependencies are read from this environment's site-packages
    (a path in a .pth file: its own .pth files, among them the editable install's, are not processed)."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        cwd=tmp,
        env=_env(),
    )
    wheels = list(dist.glob("subsidy_engine-*.whl"))
    assert len(wheels) == 1
    env = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, env=_env())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            str(wheels[0]),
        ],
        check=True,
        env=_env(),
    )
    purelib = subprocess.run(
        [str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()] or [sysconfig.get_paths()["purelib"]]
    (Path(purelib) / "zz_project_dependencies.pth").write_text("\n".join(deps) + "\n")
    return env


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_the_installed_cli_evaluates_the_seed_with_the_bundled_rulebook(
    wheel_env: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(wheel_env / "bin" / "python"), "-c", "import subsidy_engine; print(subsidy_engine.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
    ).stdout
    assert where.startswith(str(wheel_env)), where  # the wheel's copy, not the source tree
    done = subprocess.run(
        [str(wheel_env / "bin" / "subsidy"), "evaluate", str(SEED), "--period", "2023", "--out", "installed"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    code, _, err = run("evaluate", str(SEED), "--period", "2023", "--out", str(tmp_path / "editable"))
    assert code == 0, err
    for name in ("payments.csv", "totals.csv", "rejects.csv"):
        assert (tmp_path / "installed" / name).read_bytes() == (tmp_path / "editable" / name).read_bytes(), (
            name
        )


def test_the_installed_web_app_runs_the_seed(wheel_env: Path, tmp_path: Path) -> None:
    script = Path(__file__).with_name("web_run.py")
    done = subprocess.run(
        [str(wheel_env / "bin" / "python"), str(script), "data", str(SEED), "web-payments.csv"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith(str(wheel_env)), done.stdout
    code, _, err = run("evaluate", str(SEED), "--period", "2023", "--out", str(tmp_path / "cli"))
    assert code == 0, err
    assert (tmp_path / "web-payments.csv").read_bytes() == (tmp_path / "cli" / "payments.csv").read_bytes()


def test_the_installed_cli_writes_a_bank_file_with_the_bundled_layout(
    wheel_env: Path, tmp_path: Path
) -> None:
    from bank_helpers import write_roster

    write_roster(tmp_path / "roster.csv")
    subsidy = str(wheel_env / "bin" / "subsidy")
    for args in (
        ["evaluate", "roster.csv", "--period", "2023-09", "--out", "run"],
        ["bank", "export", "run", "--out", "bank.csv"],
    ):
        done = subprocess.run([subsidy, *args], capture_output=True, text=True, cwd=tmp_path, env=_env())
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "bank.csv").read_text(encoding="utf-8-sig").startswith("批次号,2023")
