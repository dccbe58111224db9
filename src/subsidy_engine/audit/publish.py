"""Publication (公示) of a run: masked copies of the payment list and the totals in `RUN_DIR/publish/` (docs/specification.md §5).

证件号码 is masked as first 6 + `********` + last 4. A published list shows who gets what from which program:
发放月份, 项目, 户编号, 证件号码 (masked), 姓名, 乡镇, 行政村, 金额 — never 死亡日期, income or 残疾 details (the
规则 column is dropped because a rule id can name a disability grade). No message of this path names a full
证件号码: errors name files and row numbers only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from subsidy_engine.errors import InputError
from subsidy_engine.privacy import mask_id, mask_ids
from subsidy_engine.run import safecells
from subsidy_engine.run.outdir import atomic_folder, os_errors
from subsidy_engine.run.writers import write_csv, write_xlsx

PUBLISHED_COLUMNS = ["发放月份", "项目", "户编号", "证件号码", "姓名", "乡镇", "行政村", "金额"]
PUBLISH_DIR = "publish"


class PublishError(InputError):
    """A folder that is not a run folder (no payments.csv, not readable as one, wrong columns): bad input."""


def publish(run_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write publish/payments.csv, publish/payments.xlsx and publish/totals.csv (atomically) and return them.
    A non-empty publish/ is replaced only with `overwrite`."""
    d = Path(run_dir)
    public = _public_list(d)  # refuse a folder that is not a run before touching anything
    out = d / PUBLISH_DIR
    with atomic_folder(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
        _write(d, public, tmp)
    return sorted(p for p in out.iterdir())


def write_publication(run_dir: Path, dest: Path) -> None:
    """The 公示 copies of the run in `run_dir` written into the folder `dest` (created; used by write_run)."""
    public = _public_list(run_dir)
    dest.mkdir(mode=0o700)
    _write(run_dir, public, dest)


def _public_list(d: Path) -> pd.DataFrame:
    src = d / "payments.csv"
    if not src.is_file():
        raise PublishError(f"{d} 中没有 payments.csv;请先用 subsidy evaluate 生成发放名单")
    try:
        payments = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # the message could quote a line: type only
        raise PublishError(f"{src.name} 无法读取为发放名单({type(exc).__name__})") from None
    missing = [c for c in PUBLISHED_COLUMNS if c not in payments.columns]
    if missing:
        raise PublishError(f"{src.name} 缺少列 {'、'.join(missing)},不是本程序的发放名单")
    public = payments[PUBLISHED_COLUMNS].copy()
    public["证件号码"] = [mask_id(v) for v in public["证件号码"]]
    for c in ("户编号", "姓名", "乡镇", "行政村", "项目"):  # free text must not smuggle an ID through
        public[c] = [mask_ids(safecells.restore(v)) for v in public[c]]
    return public


def _write(d: Path, public: pd.DataFrame, dest: Path) -> None:
    write_csv(public, dest / "payments.csv")
    write_xlsx(public, dest / "payments.xlsx", "公示名单")
    totals = d / "totals.csv"
    if totals.is_file():  # aggregates hold no IDs; masked anyway so nothing ID-like is ever published
        text = totals.read_text(encoding="utf-8")
        (dest / "totals.csv").write_text(mask_ids(text), encoding="utf-8")
