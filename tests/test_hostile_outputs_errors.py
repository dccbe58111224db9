"""Output errors are one line and exit 5, a target has one writer at a time, a killed writer's leftovers go, and
an internal error is exit 70, never a traceback and never 1."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import subsidy_engine
from audit_helpers import SMALL
from helpers import run
from subsidy_engine.run import outdir, output

ROSTER = str(SMALL / "rural-dibao-severely-disabled.csv")
SRC = str(Path(subsidy_engine.__file__).resolve().parents[1])
HOLDER = """
import pathlib, sys, time
from subsidy_engine.run.outdir import atomic_folder
out, ready, release = map(pathlib.Path, sys.argv[1:4])
with atomic_folder(out) as tmp:
    (tmp / "first.txt").write_text("first")
    ready.write_text("ready")
    while not release.exists():
        time.sleep(0.02)
"""


def _evaluate(out: Path, *extra: str) -> tuple[int, str, str]:
    return run("evaluate", ROSTER, "--period", "2023", "--out", str(out), *extra)


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _python(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.EROFS, "文件系统是只读的(EROFS)"), (errno.EACCES, "没有写入权限(EACCES)")]
)
def test_a_folder_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    def refuse(**_: Any) -> str:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(outdir.tempfile, "mkdtemp", refuse)
    out = tmp_path / "o"
    assert _evaluate(out) == (5, "", f"错误: 无法写入 {out}:{reason}\n")
    assert not out.exists() and _hidden(tmp_path) == []


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError("IOError: [Errno 28] No space left on device. Detail: Python exception"),  # pyarrow's kind
    ],
)
def test_disk_full_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError) -> None:
    def half_then_full(frame: Any, path: Path) -> None:
        path.write_bytes(b"PAR1" * 1000)
        raise error

    monkeypatch.setattr(output, "write_parquet", half_then_full)
    out = tmp_path / "o"
    code, stdout, err = _evaluate(out, "--format", "csv,parquet")
    assert (code, stdout, err) == (5, "", f"错误: 无法写入 {out}:磁盘空间不足(ENOSPC)\n")
    assert not out.exists() and _hidden(tmp_path) == []  # the half-written bank list is gone


def test_a_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" / "o"
    assert _evaluate(out) == (5, "", f"错误: {tmp_path / 'f'} 不是目录,无法在其中写入 o\n")


def test_a_250_character_name_is_written_and_a_256_byte_one_refused(tmp_path: Path) -> None:
    out = tmp_path / ("a" * 250)
    code, _, err = _evaluate(out)
    assert code == 0, err
    assert (out / "payments.csv").is_file() and _hidden(tmp_path) == []
    code, _, err = _evaluate(tmp_path / ("b" * 256))
    assert (code, err) == (5, "错误: 输出目录名称太长:256 字节,一段路径最多 255 字节\n")
    assert outdir.stem("a" * 250) != "a" * 250 and len(f".{outdir.stem('a' * 250)}.old-4194304") <= 255


def test_an_empty_mount_point_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "mnt"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == out or real(p))
    assert _evaluate(out) == (5, "", f"错误: 输出目录 {out} 是一个挂载点,不能整体替换;请用其中的一个子目录\n")


def test_a_rename_refused_by_the_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    real = Path.rename

    def busy(self: Path, target: Any) -> Path:
        if Path(target) == out:
            raise OSError(errno.EBUSY, "Device or resource busy")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", busy)
    code, _, err = _evaluate(out)
    assert (code, err) == (5, f"错误: 无法写入 {out}:正被占用(挂载点不能被整体替换)(EBUSY)\n")
    assert not out.exists() and _hidden(tmp_path) == []


def test_a_second_writer_of_one_target_is_refused(tmp_path: Path) -> None:
    out, ready, release = tmp_path / "o", tmp_path / "ready", tmp_path / "release"
    holder = _python("-c", HOLDER, str(out), str(ready), str(release))
    try:
        while not ready.exists():
            assert holder.poll() is None, holder.communicate()
            time.sleep(0.02)
        for extra in ([], ["--overwrite"]):
            args = ["-m", "subsidy_engine.cli", "evaluate", ROSTER, "--period", "2023", "--out", str(out)]
            second = _python(*args, *extra)
            stdout, stderr = second.communicate(timeout=300)
            assert (second.returncode, stdout) == (5, "")
            assert stderr == f"错误: 另一个计算正在写入 {out};请等它结束,或换一个输出位置\n"
    finally:
        release.write_text("go")
        holder.communicate(timeout=300)
    assert holder.returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["first.txt"]  # the first writer's folder, untouched
    assert _evaluate(out)[0] == 5  # afterwards: the folder has files, --overwrite is needed
    assert _hidden(tmp_path) == []


def test_leftovers_of_a_killed_writer_are_cleared(tmp_path: Path) -> None:
    stale = [tmp_path / ".o.k3j9x_2a.tmp", tmp_path / ".o.old-4194300"]
    for d in stale:
        d.mkdir()
        (d / "payments.csv").write_text("a full bank list")
    (tmp_path / ".o.lock").write_text("")  # left by the killed process, no longer locked
    others = [tmp_path / ".o2.k3j9x_2a.tmp", tmp_path / ".o.v2.k3j9x_2a.tmp", tmp_path / ".o.old-x"]
    for d in others:
        d.mkdir()
    code, _, err = _evaluate(tmp_path / "o")
    assert code == 0, err
    assert _hidden(tmp_path) == sorted(d.name for d in others)  # other targets' siblings are not touched


def test_a_killed_writer_is_really_gone(tmp_path: Path) -> None:
    out, ready = tmp_path / "o", tmp_path / "ready"
    holder = _python("-c", HOLDER, str(out), str(ready), str(tmp_path / "never"))
    while not ready.exists():
        assert holder.poll() is None, holder.communicate()
        time.sleep(0.02)
    holder.kill()
    holder.communicate()
    assert len(_hidden(tmp_path)) == 2  # .o.XXXXXXXX.tmp and .o.lock
    assert _evaluate(out)[0] == 0
    assert _hidden(tmp_path) == []


def test_an_internal_error_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from subsidy_engine.cli import main

    def broken(*_: Any, **__: Any) -> None:
        raise KeyError("500119195804102018")

    monkeypatch.setattr(main, "evaluate_file", broken)
    code, out, err = _evaluate(tmp_path / "o")
    assert (code, out) == (70, "")
    assert err == "内部错误(KeyError),请报告:这是本程序的问题,不是名册或规则的问题\n"
    assert "500119" not in err


def test_an_internal_error_in_an_auditor_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from subsidy_engine.cli import audit

    def broken(*_: Any, **__: Any) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(audit, "audit_full", broken)
    code, _, err = run("audit", ROSTER, "--period", "2023", "--out", str(tmp_path / "a"))
    assert (code, err) == (70, "内部错误(ZeroDivisionError),请报告:这是本程序的问题,不是名册或规则的问题\n")
    assert not (tmp_path / "a").exists()
