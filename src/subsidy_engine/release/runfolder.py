"""A run folder as the bank file reads it: its manifest, its payment list and program titles, checked unchanged.

The payment list and totals must still have the sha256 the manifest recorded (a list edited after the run is
refused: the bank pays what was computed, or nothing). The roster the run read is found as `rerun` finds it:
the path as recorded, then beside the run folder; `--roster` names it when it has moved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from subsidy_engine.audit.rerun import ManifestError, load_manifest
from subsidy_engine.errors import InputError
from subsidy_engine.run import safecells
from subsidy_engine.run.payments import PAYMENT_COLUMNS

CHECKED_OUTPUTS = ("payments.csv", "totals.csv")


class RunFolderError(InputError):
    """A folder that is not a usable run folder (no manifest, a streamed run, an output changed since)."""


@dataclass
class RunFolder:
    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str  # of manifest.json's bytes: names the run (the batch number is made from it)
    period: str
    payments: pd.DataFrame  # PAYMENT_COLUMNS as texts (formula guards undone) + `_fen` (int64)
    titles: dict[str, str]  # program id → 项目名称 (from totals.csv)

    @property
    def roster_sha256(self) -> str:
        return str(self.manifest["input"].get("sha256", ""))

    def roster_path(self, override: str | Path | None = None) -> Path:
        """The roster file this run read: `override` when given, else the recorded path as given (relative
        to the current folder), then relative to the run folder and its parent."""
        if override is not None:
            p = Path(override)
            if not p.is_file():
                raise RunFolderError(f"{p}: 名册文件不存在", path=str(p))
            return p
        recorded = Path(str(self.manifest["input"].get("path", "")))
        for candidate in (recorded, self.path / recorded, self.path.parent / recorded):
            if str(recorded) and candidate.is_file():
                return candidate
        raise RunFolderError(
            f"找不到计算所用的名册 {recorded}(manifest.json 记录的路径);用 --roster 指定它",
            path=str(recorded),
        )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_run(run_dir: str | Path) -> RunFolder:
    """Read and check a run folder written by `subsidy evaluate`."""
    d = Path(run_dir)
    manifest_path = d / "manifest.json"
    if not manifest_path.is_file():
        raise RunFolderError(f"{d} 中没有 manifest.json,不是 subsidy evaluate 的输出目录", path=str(d))
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as e:
        raise RunFolderError(str(e), path=str(manifest_path)) from None
    if not isinstance(manifest.get("input"), dict) or not isinstance(manifest.get("outputs"), dict):
        raise RunFolderError(f"{manifest_path}: manifest 的 input 或 outputs 不完整", path=str(manifest_path))
    if "payments.csv" not in manifest["outputs"]:
        raise RunFolderError(
            f"{d}: 没有 payments.csv(--stream 的运行把发放名单分片写成 Parquet);"
            "代发请用不带 --stream 的 subsidy evaluate 计算",
            path=str(d),
        )
    for name in CHECKED_OUTPUTS:
        p = d / name
        want = manifest["outputs"].get(name)
        if not p.is_file():
            raise RunFolderError(f"{d}: 缺少 {name}", path=str(p))
        if want is not None and _sha256(p) != want:
            raise RunFolderError(
                f"{p}: 内容与 manifest.json 记录的 sha256 不符,计算之后被改过;"
                "代发只能用计算时写出的发放名单(请重新计算)",
                path=str(p),
            )
    payments = _read_csv(d / "payments.csv", PAYMENT_COLUMNS)
    for c in PAYMENT_COLUMNS:
        if c != "金额":
            payments[c] = [safecells.restore(v) for v in payments[c]]
    payments["_fen"] = np.array([int(v.replace(".", "")) for v in payments["金额"]], dtype=np.int64)
    totals = _read_csv(d / "totals.csv", ["项目", "项目名称", "规则", "乡镇"])
    top = totals[(totals["规则"] == "") & (totals["乡镇"] == "") & (totals["项目"] != "")]
    titles = {
        safecells.restore(k): safecells.restore(v) for k, v in zip(top["项目"], top["项目名称"], strict=True)
    }
    return RunFolder(
        path=d,
        manifest=manifest,
        manifest_sha256=_sha256(manifest_path),
        period=str(manifest["period"]),
        payments=payments,
        titles=titles,
    )


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # the message could quote a line: type only
        raise RunFolderError(f"{path}: 无法读取({type(exc).__name__})", path=str(path)) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RunFolderError(f"{path}: 缺少列 {'、'.join(missing)}", path=str(path))
    return frame
