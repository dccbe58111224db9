"""Publication (公示): masked 证件号码, no 死亡日期 / 残疾 / income, nothing ID-like anywhere in the published files."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from audit_helpers import SEED, SMALL
from helpers import run
from subsidy_engine.audit.publish import PUBLISHED_COLUMNS
from subsidy_engine.privacy import mask_id
from subsidy_engine.run.output import write_run
from subsidy_engine.run.pipeline import evaluate_file

ID_LIKE = re.compile(r"\d{17}[\dXx]")


def _published_texts(folder: Path) -> list[str]:
    texts = []
    for p in sorted(folder.iterdir()):
        if p.suffix == ".csv":
            texts.append(p.read_text(encoding="utf-8"))
        elif p.suffix == ".xlsx":
            wb = openpyxl.load_workbook(p, read_only=True)
            for ws in wb.worksheets:
                texts += ["" if v is None else str(v) for row in ws.iter_rows(values_only=True) for v in row]
            wb.close()
    return texts


@pytest.mark.parametrize("roster", [SEED, SMALL / "rural-dibao-severely-disabled.csv"], ids=["seed", "small"])
def test_nothing_id_like_is_published(tmp_path: Path, roster: Path) -> None:
    result = evaluate_file(roster, "2023")
    write_run(result, tmp_path / "run")
    code, out, err = run("publish", str(tmp_path / "run"))
    assert code == 0, err
    pub = tmp_path / "run" / "publish"
    assert out == "".join(f"已写入 {pub / n}\n" for n in ("payments.csv", "payments.xlsx", "totals.csv"))
    texts = _published_texts(pub)
    blob = "\n".join(texts)
    assert not ID_LIKE.search(blob)
    for full in result.raw.frame["id_number"].astype(str):
        assert full not in blob
    public = pd.read_csv(pub / "payments.csv", dtype=str, keep_default_na=False)
    assert list(public.columns) == PUBLISHED_COLUMNS
    assert list(public["证件号码"]) == [mask_id(v) for v in result.payments["证件号码"]]
    assert len(public) == len(result.payments)
    for forbidden in ("死亡日期", "残疾证号", "残疾证有效期至", "家庭月人均收入", "规则"):
        assert forbidden not in blob.splitlines()[0]


def test_masking_is_first_six_and_last_four() -> None:
    assert mask_id("50011919480808406X") == "500119********406X"
    assert mask_id("12345") == "*****"


def test_publishing_a_folder_without_a_payment_list_names_no_id(tmp_path: Path) -> None:
    code, out, err = run("publish", str(tmp_path))
    assert code == 3 and out == ""  # not a run folder: bad input, not an output that cannot be written
    assert err == f"错误: {tmp_path} 中没有 payments.csv;请先用 subsidy evaluate 生成发放名单\n"
