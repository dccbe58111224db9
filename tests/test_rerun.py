"""Manifest + rerun: outputs are deterministic (csv, xlsx, parquet), a rerun proves them byte-identical or says
exactly what differs and why (input, rule files, engine version, outputs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from audit_helpers import SMALL
from helpers import run
from subsidy_engine.audit.rerun import rerun
from subsidy_engine.rulebook.load import DEFAULT_RULES
from subsidy_engine.run.output import write_run
from subsidy_engine.run.pipeline import evaluate_file

SRC = SMALL / "rural-dibao-severely-disabled.csv"
ALL = ("payments.csv", "payments.parquet", "payments.xlsx", "rejects.csv", "totals.csv")


def _evaluate(tmp_path: Path, src: Path = SRC, rules: Path | None = None) -> Path:
    args = [
        "evaluate",
        str(src),
        "--period",
        "2023",
        "--out",
        str(tmp_path / "o"),
        "--format",
        "csv,xlsx,parquet",
    ]
    code, _, err = run(*args, *(["--rules", str(rules)] if rules else []))
    assert code == 0, err
    return tmp_path / "o" / "manifest.json"


def test_every_output_format_is_byte_identical_across_runs(tmp_path: Path) -> None:
    seen = []
    for name in ("a", "b"):
        result = evaluate_file(SMALL / "tekun-elderly-dies-in-october.csv", "2023")
        write_run(result, tmp_path / name, ("csv", "xlsx", "parquet"))
        seen.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert sorted(seen[0]) == sorted((*ALL, "manifest.json"))
    assert seen[0] == seen[1]


def test_manifest_records_what_a_rerun_needs(tmp_path: Path) -> None:
    m = json.loads(_evaluate(tmp_path).read_text(encoding="utf-8"))
    assert m["input"]["path"] == str(SRC)
    assert m["rules"]["folder"] == str(DEFAULT_RULES)
    assert m["formats"] == ["csv", "xlsx", "parquet"]


def test_rerun_proves_the_outputs_identical(tmp_path: Path) -> None:
    manifest = _evaluate(tmp_path)
    code, out, _ = run("rerun", str(manifest))
    assert code == 0
    assert out == (
        f"重新计算 期间 2023,名册 {SRC}\n"
        "  payments.csv: 一致\n"
        "  payments.parquet: 一致\n"
        "  payments.xlsx: 一致\n"
        "  rejects.csv: 一致\n"
        "  totals.csv: 一致\n"
        "结论: 5 个输出文件逐字节一致\n"
    )


def test_rerun_with_another_roster_names_the_input_and_the_outputs_that_differ(tmp_path: Path) -> None:
    manifest = _evaluate(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text(SRC.read_text(encoding="utf-8").replace(",260,", ",300,"), encoding="utf-8")
    old = json.loads(manifest.read_text(encoding="utf-8"))["input"]["sha256"]
    code, out, _ = run("rerun", str(manifest), "--roster", str(other))
    assert code == 1
    assert out == (
        f"重新计算 期间 2023,名册 {other}\n"
        "  payments.csv: 不同\n"
        "  payments.parquet: 不同\n"
        "  payments.xlsx: 不同\n"
        "  rejects.csv: 一致\n"
        "  totals.csv: 不同\n"
        "结论: 4 个输出文件不同(共 5 个)\n"
        "原因:\n"
        f"  - 输入文件不同: sha256 原 {old[:12]}…,现 {report_sha(other)[:12]}…\n"
    )


def test_the_same_outputs_from_another_input_file_are_identical_with_a_note(tmp_path: Path) -> None:
    manifest = _evaluate(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text(SRC.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a blank line is not a row
    report = rerun(manifest, other)
    assert report.identical and report.reasons[0].startswith("输入文件不同")
    assert report.text().endswith("说明:\n  - " + report.reasons[0])


def report_sha(p: Path) -> str:
    import hashlib

    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_rerun_with_changed_rules_names_the_changed_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules)
    manifest = _evaluate(tmp_path, rules=rules)
    dibao = rules / "dibao.yaml"
    dibao.write_text(dibao.read_text(encoding="utf-8").replace("农村: 581}", "农村: 591}"), encoding="utf-8")
    code, out, _ = run("rerun", str(manifest))
    assert code == 1
    assert out == (
        f"重新计算 期间 2023,名册 {SRC}\n"
        "  payments.csv: 不同\n"
        "  payments.parquet: 不同\n"
        "  payments.xlsx: 不同\n"
        "  rejects.csv: 一致\n"
        "  totals.csv: 不同\n"
        "结论: 4 个输出文件不同(共 5 个)\n"
        "原因:\n"
        "  - 规则文件不同(chongqing-nanchuan): 修改 dibao.yaml\n"
    )


def test_rerun_reports_another_engine_version_and_a_tampered_output(tmp_path: Path) -> None:
    manifest = _evaluate(tmp_path)
    m = json.loads(manifest.read_text(encoding="utf-8"))
    m["engine"]["version"] = "0.0.9"
    m["outputs"]["totals.csv"] = "0" * 64
    manifest.write_text(json.dumps(m), encoding="utf-8")
    report = rerun(manifest)
    assert report.differing == ["totals.csv"]
    assert report.reasons == ["引擎版本不同: 原 0.0.9,现 0.1.0"]


def test_rerun_of_a_missing_manifest_or_roster_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("rerun", str(tmp_path / "nope.json"))
    assert code == 3 and err == f"错误: {tmp_path / 'nope.json'}: 文件不存在\n"
    manifest = _evaluate(tmp_path)
    m = json.loads(manifest.read_text(encoding="utf-8"))
    m["input"]["path"] = "/nowhere/roster.csv"
    manifest.write_text(json.dumps(m), encoding="utf-8")
    code, _, err = run("rerun", str(manifest))
    assert (
        code == 3 and err == "错误: 找不到 manifest 记录的名册文件 /nowhere/roster.csv;请用 --roster 指定\n"
    )
