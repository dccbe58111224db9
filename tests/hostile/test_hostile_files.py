"""Every file of the hostile corpus through `subsidy validate`: the exit code, the one-line Chinese message or the
reason codes it must get, and never a traceback. Files that could exhaust memory if a guard regressed run in a
child process with an address-space limit and a timeout, so that a regression fails the test, not the machine."""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import BUILDERS, Case, case

from helpers import run

ROOT = Path(__file__).resolve().parents[2]
CHILD_MEMORY = 3 << 30  # bytes of address space for a risky file's child process


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def validate_file(
    path: Path, rejects: Path, *, child: bool, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    args = ["validate", str(path), "--out", str(rejects)]
    if not child and env is None:
        return run(*args)
    proc = subprocess.run(
        [sys.executable, "-m", "subsidy_engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _reason_codes(rejects: Path) -> set[str]:
    with rejects.open(encoding="utf-8", newline="") as f:
        return {row["原因代码"] for row in csv.DictReader(f)}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_hostile_file(name: str, tmp_path: Path) -> None:
    c: Case = case(name)
    path = tmp_path / c.filename
    path.write_bytes(c.data)
    rejects = tmp_path / "rejects.csv"
    code, stdout, stderr = validate_file(path, rejects, child=c.expected.risky)
    assert "Traceback" not in stderr + stdout
    assert code == c.expected.exit, stdout + stderr
    if c.expected.exit == 3:
        assert stderr.startswith("错误: ") and stderr.count("\n") == 1, stderr
        assert c.expected.message in stderr
        assert not rejects.exists()
    else:
        assert set(c.expected.reasons) <= _reason_codes(rejects)
    if c.expected.accepted is not None:
        assert f"采用 {c.expected.accepted} 行" in stdout


def test_input_size_limit_is_a_setting(tmp_path: Path) -> None:
    c = case("csv_trailing_blank_cells_written_out")
    path = tmp_path / c.filename
    path.write_bytes(c.data)
    code, _, stderr = validate_file(
        path, tmp_path / "r.csv", child=True, env={"SUBSIDY_MAX_INPUT_BYTES": "512"}
    )
    assert code == 3
    assert "超过 512 字节(SUBSIDY_MAX_INPUT_BYTES)" in stderr and "--engine dask" in stderr
    code, _, stderr = validate_file(
        path, tmp_path / "r.csv", child=True, env={"SUBSIDY_MAX_INPUT_BYTES": "1K"}
    )
    assert code == 0, stderr


def test_a_malformed_setting_is_refused_by_name(tmp_path: Path) -> None:
    c = case("csv_trailing_blank_cells_written_out")
    path = tmp_path / c.filename
    path.write_bytes(c.data)
    code, _, stderr = validate_file(path, tmp_path / "r.csv", child=True, env={"SUBSIDY_MAX_ROWS": "lots"})
    assert code == 3
    assert "SUBSIDY_MAX_ROWS='lots'" in stderr


def test_decompressed_total_limit(tmp_path: Path) -> None:
    c = case("xlsx_error_cell_na")
    path = tmp_path / c.filename
    path.write_bytes(c.data)
    code, _, stderr = validate_file(
        path, tmp_path / "r.csv", child=True, env={"SUBSIDY_MAX_UNZIPPED_BYTES": "2K"}
    )
    assert code == 3
    assert "超过上限 2 KB(SUBSIDY_MAX_UNZIPPED_BYTES)" in stderr
