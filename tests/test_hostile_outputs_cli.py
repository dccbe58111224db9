"""The same output rules for every command: no silent overwrite, no silent parent folders, the same exit codes
for the same finding, a folder that is not a run is bad input, and --cross-check says and records that it ran."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from audit_helpers import SMALL
from helpers import run
from subsidy_engine.cli.exitcodes import EXIT_CODES, INTERNAL_ERROR

NAME = "rural-dibao-severely-disabled"
ROSTER = str(SMALL / f"{NAME}.csv")
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    code, _, err = run("evaluate", ROSTER, "--period", "2023", "--out", str(out))
    assert code == 0, err
    return out


@pytest.fixture
def paid_with_differences(tmp_path: Path, run_dir: Path) -> Path:
    """The computed list with the first line paid 100.00 more and the second line not paid."""
    lines = (run_dir / "payments.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    raised = re.sub(
        r",(\d+)\.(\d\d),", lambda m: f",{int(m.group(1)) + 100}.{m.group(2)},", lines[1], count=1
    )
    paid = tmp_path / "paid.csv"
    paid.write_text(lines[0] + raised + "".join(lines[3:]), encoding="utf-8")
    return paid


def test_audit_refuses_a_folder_with_files_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "a"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    code, stdout, err = run("audit", ROSTER, "--period", "2023", "--out", str(out))
    assert (code, stdout, err) == (5, "", f"错误: 输出目录 {out} 已有文件;换一个目录,或加 --overwrite 覆盖\n")
    assert (out / "keep.txt").exists()
    code, _, err = run("audit", ROSTER, "--period", "2023", "--out", str(out), "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["audit.xlsx", "findings.csv"]


def test_publish_refuses_to_replace_a_publication_unless_overwrite(run_dir: Path) -> None:
    assert run("publish", str(run_dir))[0] == 0
    (run_dir / "publish" / "payments.csv").write_text("edited by hand")
    code, out, err = run("publish", str(run_dir))
    pub = run_dir / "publish"
    assert (code, out, err) == (5, "", f"错误: 输出目录 {pub} 已有文件;换一个目录,或加 --overwrite 覆盖\n")
    assert (pub / "payments.csv").read_text() == "edited by hand"
    assert run("publish", str(run_dir), "--overwrite")[0] == 0
    assert (pub / "payments.csv").read_text(encoding="utf-8").startswith("发放月份,")


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", ROSTER, "--period", "2023", "--out", "{missing}/o"],
        ["audit", ROSTER, "--period", "2023", "--out", "{missing}/o"],
        ["diff", ROSTER, ROSTER, "--out", "{missing}/o"],
        ["diff", ROSTER, ROSTER, "--xlsx", "{missing}/d.xlsx"],
        ["validate", ROSTER, "--out", "{missing}/rejects.csv"],
    ],
    ids=["evaluate", "audit", "diff-out", "diff-xlsx", "validate"],
)
def test_no_command_creates_a_missing_parent_folder(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "no" / "such"
    code, out, err = run(*[a.format(missing=missing) for a in args])
    assert (code, out) == (5, "")
    assert err == f"错误: 上级目录 {missing} 不存在;请先创建它(不会自动创建上级目录)\n"
    assert not (tmp_path / "no").exists()


def test_file_outputs_are_not_replaced_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "rejects.csv"
    target.write_text("mine")
    bad = str(Path(__file__).resolve().parent / "bad_rosters" / "id_checksum.csv")
    code, _, err = run("validate", bad, "--out", str(target))
    assert (code, err) == (5, f"错误: 输出文件 {target} 已存在;换一个名字,或加 --overwrite 覆盖\n")
    assert target.read_text() == "mine"
    assert run("validate", bad, "--out", str(target), "--overwrite")[0] == 1  # rows rejected, file written
    assert target.read_text(encoding="utf-8").startswith("行号,")


def test_audit_with_a_paid_list_exits_like_diff(
    tmp_path: Path, run_dir: Path, paid_with_differences: Path
) -> None:
    computed = str(run_dir / "payments.csv")
    paid = str(paid_with_differences)
    diff_code, _, _ = run("diff", paid, computed)
    code, out, err = run("audit", ROSTER, "--period", "2023", "--paid", paid, "--out", str(tmp_path / "a"))
    assert diff_code == code == 1, err
    assert "OVERPAID" in out and "UNPAID_ELIGIBLE" in out


def test_audit_exits_0_when_nothing_is_found(tmp_path: Path, run_dir: Path) -> None:
    paid = str(run_dir / "payments.csv")
    code, out, err = run("audit", ROSTER, "--period", "2023", "--paid", paid, "--out", str(tmp_path / "a"))
    assert (code, err) == (0, "")
    assert out.startswith("期间 2023  发现 0 条\n")


def test_publishing_a_folder_that_is_not_a_run_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "payments.csv").write_text("姓名,金额\n王,1.00\n", encoding="utf-8")
    code, out, err = run("publish", str(tmp_path))
    assert (code, out) == (3, "")
    assert (
        err
        == "错误: payments.csv 缺少列 发放月份、项目、户编号、证件号码、乡镇、行政村,不是本程序的发放名单\n"
    )
    assert not (tmp_path / "publish").exists()


def test_cross_check_says_it_agreed_and_the_manifest_records_it(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, stdout, err = run("evaluate", ROSTER, "--period", "2023", "--out", str(out), "--cross-check")
    assert code == 0, err
    lines = len((out / "payments.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert f"两个引擎结果一致: {lines} 条\n" in stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cross_check"] == {"engines": ["pandas", "rete"], "lines": lines, "agree": True}
    assert (out / "payments.csv").read_bytes() == (SMALL / f"{NAME}.expected.csv").read_bytes()
    code, stdout, err = run("rerun", str(out / "manifest.json"))
    assert code == 0, stdout + err


def test_without_cross_check_the_manifest_has_no_such_key(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "cross_check" not in manifest
    assert list(manifest)[:3] == ["period", "engine", "input"]


def test_every_exit_code_is_in_the_readme_table() -> None:
    codes = sorted({0, 2, INTERNAL_ERROR, *(c for _, c in EXIT_CODES)})
    for code in codes:
        assert re.search(rf"^\| {code} \|", README, re.M), f"exit code {code} is not in the README's table"
