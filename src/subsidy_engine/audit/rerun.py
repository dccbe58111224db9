"""Re-running a recorded run from its manifest and proving the outputs byte-identical (docs/design.md §4).

The manifest (output.build_manifest) records the period, the input file (path as given and sha256), the
rulebook (folder, content hash, each file's sha256), the engine version, the formats and the sha256 of each
output. `rerun` evaluates again into a temporary folder and compares every output; when something differs it
says why: another input (sha256), other rules (which files changed, were added or removed), another engine
version, and which outputs differ.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subsidy_engine.errors import InputError
from subsidy_engine.run.output import sha256, write_run
from subsidy_engine.run.pipeline import ENGINES, evaluate_file
from subsidy_engine.version import __version__


class ManifestError(InputError):
    """A manifest that cannot be read, or whose input / rulebook cannot be found again."""


@dataclass
class RerunReport:
    manifest: Path
    period: str
    roster: Path
    rules: Path | None
    outputs: dict[str, str] = field(default_factory=dict)  # name -> 一致 / 不同 / 未生成 / 新增
    reasons: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(v == "一致" for v in self.outputs.values())

    @property
    def differing(self) -> list[str]:
        return [k for k, v in self.outputs.items() if v != "一致"]

    def text(self) -> str:
        lines = [f"重新计算 期间 {self.period},名册 {self.roster}"]
        for name, status in self.outputs.items():
            lines.append(f"  {name}: {status}")
        if self.identical:
            lines.append(f"结论: {len(self.outputs)} 个输出文件逐字节一致")
        else:
            lines.append(f"结论: {len(self.differing)} 个输出文件不同(共 {len(self.outputs)} 个)")
        if self.reasons:
            lines.append("原因:" if not self.identical else "说明:")
            lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


def load_manifest(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{p}: 文件不存在", path=str(p)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{p}: 不是有效的 manifest.json({type(exc).__name__})", path=str(p)) from None
    for key in ("period", "input", "rules", "outputs"):
        if not isinstance(data, dict) or key not in data:
            raise ManifestError(f"{p}: manifest 缺少 {key!r}", path=str(p))
    return data


def _find(recorded: str, manifest: Path) -> Path | None:
    """The recorded path as given (relative to the current folder), else relative to the manifest's folder."""
    p = Path(recorded)
    for candidate in (p, manifest.parent / p, manifest.parent.parent / p):
        if candidate.exists():
            return candidate
    return None


def _short(sha: str) -> str:
    return sha[:12]


def rerun(
    manifest_path: str | Path, roster: str | Path | None = None, rules: str | Path | None = None
) -> RerunReport:
    """Evaluate again from the manifest's inputs (or the ones given) and compare every recorded output."""
    mpath = Path(manifest_path)
    m = load_manifest(mpath)
    inp, rec_rules = m["input"], m["rules"]
    if roster is not None:
        roster_path = Path(roster)
    else:
        recorded = inp.get("path") or inp.get("file", "")
        found = _find(recorded, mpath)
        if found is None:
            raise ManifestError(
                f"找不到 manifest 记录的名册文件 {recorded};请用 --roster 指定", path=recorded
            )
        roster_path = found
    rules_path: Path | None = Path(rules) if rules is not None else None
    if rules_path is None and rec_rules.get("folder"):
        rules_path = _find(rec_rules["folder"], mpath)
        if rules_path is None:
            raise ManifestError(
                f"找不到 manifest 记录的规则库目录 {rec_rules['folder']};请用 --rules 指定",
                path=rec_rules["folder"],
            )
    formats = tuple(m.get("formats") or _formats_from(m["outputs"]))

    engine = m.get("engine", {}).get("name", "pandas")
    result = evaluate_file(
        roster_path, m["period"], rules_path, engine=engine if engine in ENGINES else "pandas"
    )
    report = RerunReport(mpath, m["period"], roster_path, rules_path)

    if result.raw.sha256 != inp.get("sha256"):
        report.reasons.append(
            f"输入文件不同: sha256 原 {_short(str(inp.get('sha256')))}…,现 {_short(result.raw.sha256)}…"
        )
    old_files: dict[str, str] = rec_rules.get("files", {})
    new_files = result.rulebook.files
    changed = sorted(k for k in old_files.keys() & new_files.keys() if old_files[k] != new_files[k])
    added = sorted(new_files.keys() - old_files.keys())
    removed = sorted(old_files.keys() - new_files.keys())
    if changed or added or removed:
        parts = [f"修改 {'、'.join(changed)}" if changed else "", f"新增 {'、'.join(added)}" if added else ""]
        parts.append(f"删除 {'、'.join(removed)}" if removed else "")
        report.reasons.append(f"规则文件不同({rec_rules.get('name')}): " + ";".join(p for p in parts if p))
    old_version = (m.get("engine") or {}).get("version")
    if old_version != __version__:
        report.reasons.append(f"引擎版本不同: 原 {old_version},现 {__version__}")

    with tempfile.TemporaryDirectory(prefix="subsidy-rerun-") as tmp:
        out = Path(tmp) / "out"
        write_run(result, out, formats)
        recorded_out: dict[str, str] = m["outputs"]
        produced = {p.name for p in out.iterdir() if p.name != "manifest.json"}
        for name in sorted(recorded_out.keys() | produced):
            if name not in produced:
                report.outputs[name] = "未生成"
            elif name not in recorded_out:
                report.outputs[name] = "新增"
            else:
                report.outputs[name] = "一致" if sha256(out / name) == recorded_out[name] else "不同"
    if not report.identical and not report.reasons:
        report.reasons.append(
            "输入、规则文件和引擎版本都一致,输出却不同:可能是输出文件被改动过,或依赖库版本不同"
        )
    return report


def _formats_from(outputs: dict[str, str]) -> list[str]:
    return [f for f in ("csv", "xlsx", "parquet") if f"payments.{f}" in outputs]
