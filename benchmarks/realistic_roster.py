"""A realistic benchmark roster: the generator's clean roster as offices really send it.

    realistic_table(n, seed=0, bad_fraction=0.01) -> (pyarrow.Table, short_rows, long_rows)
    python benchmarks/generate_roster.py N OUT.csv|OUT.parquet --realistic
    python benchmarks/generate_roster.py N OUT.csv --realistic --bad-fraction 0 --no-blank-lines   (its clean twin)

On top of `generate_roster.build_table` (same persons, same households):
- every enumerated value in its spelling variants on ~15 % of cells: dates `2023/6/1`, months `2023/6`,
  是/否 as `Y`/`n`/`true`/`FALSE`/`1`/`0`, full-width and ASCII spaces around values, a lowercase `x`;
- ~0.3 % long or rare names (`阿卜杜热合曼·买买提明`, `𠮷`, `龘`, a 30-character name);
- ~3 % of households split across the file (some members moved to another place, not contiguous);
- `bad_fraction` of rows bad, in rotation over every kind of rejection a roster can have (bad check characters,
  Excel-mangled numbers `5.00119E+17`, duplicates, negative / 3-decimal / unreadable / too large money, unknown
  enum values, unreadable 是/否, dates and months, 年级 out of range, 残疾证号 not the holder's, death before
  birth, a blank required cell, household fields that disagree, no / two 户主, short and long rows);
- blank lines between blocks (CSV: empty lines and lines of commas only; Parquet: rows of blank cells).
Deterministic: the same (n, seed, bad_fraction) gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from generate_roster import COLUMNS, build_table

DATES = ["风险消除日期", "残疾证有效期至", "死亡日期"]
MONTHS = ["低保起始月", "低保终止月"]
BOOLS = ["家庭有机动车", "低保在保", "特困人员", "财政供养人员", "参加城乡居民医保", "是否寄宿"]
ENUMS = ["户类型", "监测对象类别", "低保类别", "与户主关系", "在校学段", "务工地点"]
YES = ["Y", "y", "true", "TRUE", "1", " 是", "是\u3000", "\u3000是\u3000"]
NO = ["N", "n", "false", "False", "0", "否 ", "\u3000否"]
RARE_NAMES = [
    "阿卜杜热合曼·买买提明", "𠮷野家", "龘", "王𪚥", "欧阳娜娜", "司马懿", "上官婉儿", "爱新觉罗·启星",
    "古丽米热·艾合买提江·阿不都热依木", "张" + "三" * 29, "䶮", "赵堃", "李喆", "陈赟",
]  # fmt: skip
VARIANT_SHARE = 0.15
BLOCK = 2000  # a blank line between blocks of about this many rows
KINDS = [
    "checksum", "excel", "duplicate", "id_short", "id_birth", "money_negative", "money_3dp", "money_bad",
    "money_large", "enum", "bool", "date", "month", "grade_range", "grade_int", "grade_required",
    "cert_format", "cert_not_own", "death_before_birth", "required", "household_mismatch", "two_heads",
    "no_head", "covered_not_dibao", "dibao_end_before_start", "short_row", "long_row",
]  # fmt: skip


def _dates(values: np.ndarray, rng: np.random.Generator) -> None:
    """`2023-06-01` → `2023/6/1` on a share of the filled cells, in place."""
    at = np.flatnonzero((values != "") & (rng.random(len(values)) < VARIANT_SHARE))
    values[at] = [f"{v[:4]}/{int(v[5:7])}/{int(v[8:10])}" for v in values[at]]


def _months(values: np.ndarray, rng: np.random.Generator) -> None:
    at = np.flatnonzero((values != "") & (rng.random(len(values)) < VARIANT_SHARE))
    values[at] = [f"{v[:4]}/{int(v[5:7])}" for v in values[at]]


def _bools(values: np.ndarray, rng: np.random.Generator) -> None:
    for word, variants in (("是", YES), ("否", NO)):
        at = np.flatnonzero((values == word) & (rng.random(len(values)) < VARIANT_SHARE))
        values[at] = np.array(variants, dtype=object)[rng.integers(0, len(variants), len(at))]


def _spaced(values: np.ndarray, rng: np.random.Generator) -> None:
    at = np.flatnonzero((values != "") & (rng.random(len(values)) < VARIANT_SHARE / 3))
    pads = np.array([" ", "\u3000", "  "], dtype=object)[rng.integers(0, 3, len(at))]
    values[at] = values[at] + pads


def _variants(col: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    for c in DATES:
        _dates(col[c], rng)
    for c in MONTHS:
        _months(col[c], rng)
    for c in BOOLS:
        _bools(col[c], rng)
    for c in ENUMS:
        _spaced(col[c], rng)
    ids = col["证件号码"]
    x = np.flatnonzero(np.char.endswith(ids.astype(str), "X") & (rng.random(len(ids)) < 0.3))
    ids[x] = [v[:17] + "x" for v in ids[x]]
    n = len(ids)
    rare = np.flatnonzero(rng.random(n) < 0.003)
    col["姓名"][rare] = np.array(RARE_NAMES, dtype=object)[rng.integers(0, len(RARE_NAMES), len(rare))]


def _split_households(col: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A row order in which ~3 % of households have their non-head members moved elsewhere in the file."""
    hh = col["户编号"]
    n = len(hh)
    _, codes = np.unique(hh, return_inverse=True)
    moved_hh = rng.random(codes.max() + 1) < 0.03
    moved = moved_hh[codes] & (col["与户主关系"] != "户主")
    key = np.arange(n, dtype=np.float64)
    key[moved] = rng.random(int(moved.sum())) * n
    return np.argsort(key, kind="stable")


def _corrupt(col: dict[str, np.ndarray], rng: np.random.Generator, bad_fraction: float) -> list[np.ndarray]:
    """Corrupt bad_fraction of rows, KINDS in rotation; returns the rows to write short and long (CSV)."""
    n = len(col["证件号码"])
    k = min(n, round(bad_fraction * n))
    rows = rng.choice(n, size=k, replace=False)
    kind = np.arange(k) % len(KINDS)
    by = {name: rows[kind == i] for i, name in enumerate(KINDS)}
    ids, certs = col["证件号码"], col["残疾证号"]
    clean = np.setdiff1d(np.arange(n), rows)
    for r in by["checksum"]:
        ids[r] = ids[r][:17] + "10X98765432".replace(ids[r][17].upper(), "")[r % 10]
    ids[by["excel"]] = [f"{float(v[:17]) * 10:.5E}" for v in ids[by["excel"]]]
    ids[by["duplicate"]] = ids[clean[rng.integers(0, len(clean), len(by["duplicate"]))]]
    ids[by["id_short"]] = [v[:16] for v in ids[by["id_short"]]]
    ids[by["id_birth"]] = [v[:10] + "13" + v[12:] for v in ids[by["id_birth"]]]
    col["往返车票金额"][by["money_negative"]] = "-120"
    col["往返车票金额"][by["money_3dp"]] = [f"{r % 800 + 40}.{r % 999 + 1:03d}" for r in by["money_3dp"]]
    col["往返车票金额"][by["money_bad"]] = "三百元"
    col["往返车票金额"][by["money_large"]] = "99999999999999"
    enum = by["enum"]
    for j, (c, bad) in enumerate((("在校学段", "大学"), ("与户主关系", "儿媳"), ("务工地点", "省外"))):
        col[c][enum[j::3]] = bad
    col["特困人员"][by["bool"]] = "有"
    col["死亡日期"][by["date"]] = np.array(["2023-02-30", "2023.05.12", "20230115"], dtype=object)[
        np.arange(len(by["date"])) % 3
    ]
    col["低保起始月"][by["month"]] = "2023-13"
    col["年级"][by["grade_range"]] = "7"
    col["年级"][by["grade_int"]] = "二"
    col["在校学段"][by["grade_required"]] = "中职"
    col["年级"][by["grade_required"]] = ""
    col["残疾证号"][by["cert_format"]] = [v + "91" for v in ids[by["cert_format"]]]
    col["残疾证号"][by["cert_not_own"]] = [ids[c] + "12" for c in clean[: len(by["cert_not_own"])]]
    col["死亡日期"][by["death_before_birth"]] = "1900-01-01"
    col["姓名"][by["required"]] = ""
    htype = col["户类型"]
    mism = by["household_mismatch"]
    htype[mism] = np.where(np.char.startswith(htype[mism].astype(str), "脱贫户"), "一般农户", "脱贫户")
    col["与户主关系"][by["two_heads"]] = "户主"
    lost_head = np.isin(col["户编号"], col["户编号"][by["no_head"]]) & (col["与户主关系"] == "户主")
    col["与户主关系"][lost_head] = "配偶"  # the household has no 户主 left
    cov = by["covered_not_dibao"]
    col["低保类别"][cov] = ""
    col["低保在保"][cov] = "是"
    col["低保终止月"][by["dibao_end_before_start"]] = "2014-01"
    own = np.flatnonzero(certs != "")
    own = own[np.isin(own, np.concatenate([by[c] for c in ("checksum", "duplicate", "id_birth")]))]
    certs[own] = [ids[r] + certs[r][18:] for r in own]  # the certificate stays the holder's own
    return [by["short_row"], by["long_row"]]


def realistic_table(
    n_persons: int, seed: int = 0, bad_fraction: float = 0.01
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """(table in file order, positions of short rows, positions of long rows) — no blank rows yet."""
    base = build_table(n_persons, seed)
    col = {c: base.column(c).to_numpy(zero_copy_only=False).astype(object) for c in COLUMNS}
    rng = np.random.default_rng([seed, 17])
    _variants(col, rng)
    short, long = _corrupt(col, rng, bad_fraction)
    order = _split_households(col, rng)
    where = np.empty(len(order), dtype=np.int64)
    where[order] = np.arange(len(order))
    table = pa.table([pa.array(col[c][order], pa.string()) for c in COLUMNS], names=COLUMNS)
    return table, np.sort(where[short]), np.sort(where[long])


def write_realistic(
    table: pa.Table, short: np.ndarray, long: np.ndarray, out: Path, blank_lines: bool = True
) -> None:
    """CSV: empty lines and lines of commas between blocks, short and long rows as such. Parquet: blank rows
    between blocks (a Parquet file has no short rows: those rows get a blank 姓名 instead)."""
    n = table.num_rows
    blanks = np.arange(BLOCK, n, BLOCK) if blank_lines else np.zeros(0, np.int64)
    if out.suffix.lower() == ".parquet":
        cols = {c: table.column(c).to_numpy(zero_copy_only=False).astype(object) for c in COLUMNS}
        cols["姓名"][np.concatenate([short, long])] = ""
        at = np.searchsorted(blanks, np.arange(n), side="right") + np.arange(n)
        rows = n + len(blanks)
        arrays = []
        for c in COLUMNS:
            full = np.full(rows, "", dtype=object)
            full[at] = cols[c]
            arrays.append(pa.array(full, pa.string()))
        pq.write_table(pa.table(arrays, names=COLUMNS), out)
        return
    lines = [",".join(r) for r in zip(*(table.column(c).to_pylist() for c in COLUMNS), strict=True)]
    for r in short:
        lines[r] = lines[r].rsplit(",", 3)[0]
    for r in long:
        lines[r] += ",多余的单元格"
    commas = "," * (len(COLUMNS) - 1)
    for i, b in enumerate(blanks[::-1]):
        lines.insert(b, "" if i % 2 else commas)
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(COLUMNS) + "\n")
        f.write("\n".join(lines) + "\n")
