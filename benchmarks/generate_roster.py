"""Deterministic generator of large, realistic rosters (SPEC §2) for benchmarks.

    generate(n_persons, seed=0, bad_fraction=0.0) -> pandas.DataFrame
    python benchmarks/generate_roster.py N OUT.csv|OUT.parquet [--seed S] [--bad-fraction F]

One row per person, the 26 columns of the SPEC §2 table in order, Chinese headers, every value text ("" is
blank). Household fields are computed once per household and broadcast to its members, so they always agree.
Everything is vectorised with numpy and assembled as pyarrow string arrays (fixed-width ids straight from byte
buffers, enums and dates through small vocabularies), so 1,000,000 persons take a few seconds.

The mix gives every program work: ~8 % 脱贫户, ~1 % monitored households, ~4 % 低保 households,
~0.3 % 特困, ~0.5 % 财政供养, ~6 % with a 残疾证, students by age, migrant workers with tickets,
~0.7 % deaths in 2022-2023.
证件号码 are valid and unique: within each (birth date, sex) the k-th person gets slot
(offset(date) + 1237·k) mod 5000, split into one of 10 region codes 5001xx and a 3-digit sequence.

bad_fraction > 0 corrupts that share of rows (drawn from a separate random stream, so the clean rows stay
the same) in six rotating ways: bad checksum, bad date text, unknown enum value, money with 3 decimals,
中职 without 年级, duplicate 证件号码. Same (n, seed, bad_fraction) gives the same bytes.
`--realistic` writes the roster as offices send it instead (realistic_roster.py): bad rows of every kind,
spelling variants, blank lines, households split across the file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from subsidy_engine.roster.idcard import CHECK_CHARS, WEIGHTS
from subsidy_engine.roster.schema import COLUMNS as SCHEMA_COLUMNS

# the SPEC §2 table, in order; the optional payout columns (代发账号, 开户银行) only feed the bank file and are left
# out, so the generated rosters and the measured figures stay what they were
COLUMNS = [c.name for c in SCHEMA_COLUMNS if c.alias not in ("payout_account", "payout_bank")]
REGIONS = ["500119", "500110", "500102", "500105", "500106", "500112", "500113", "500114", "500115", "500116"]
SLOTS = 500 * len(REGIONS)  # distinct (region, sequence) per birth date and sex
CHECK = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)
YESNO = ["", "否", "是"]
RELATIONS = ["户主", "配偶", "子女", "父母", "孙子女", "其他"]
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, OTHER = range(6)
STAGES = ["", "学前", "小学", "初中", "普通高中", "中职", "高职"]
SCHOOL_BY_AGE = [  # (age on 09-01 from, to, share, stage): 15-17 split 普通高中 58 % / 中职 30 %
    (3, 5, 0.8, 1), (6, 11, 0.99, 2), (12, 14, 0.97, 3), (15, 17, 0.58, 4), (15, 17, 0.88, 5),
    (18, 18, 0.1, 5), (18, 20, 0.3, 6),
]  # fmt: skip
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文红玉兵春梅海波志云飞德福成龙凤琴燕")
PLACE1 = list("金永三兴石新太清大龙白凤长双青福和安水东南西北黄马高庆合天河山")
PLACE2 = list("花福和禾桥山坪湾沟坝林溪岭田堡口塘寺台园峰源河泉阳丰观水")
BAD_DATES = ["2023-02-30", "2023-13-05", "2022-02-29", "2023.05.12", "20230115", "2023-06-31"]
EPOCH_1925 = int(np.datetime64("1925-01-01", "D").astype(np.int64))


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def _choice(rng: np.random.Generator, n: int, probs: list[float]) -> np.ndarray:
    """Codes 0..len(probs)-1 drawn with the given probabilities (vectorised)."""
    cum = np.cumsum(probs)
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(probs) - 1)


def _take(vocab: list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(vocab, pa.string()).take(pa.array(codes.astype(np.int32)))


def _fixed(mat: np.ndarray) -> pa.Array:
    """An (n, w) uint8 matrix of ASCII bytes as a string array, built straight from its bytes."""
    n, w = mat.shape
    offsets = pa.py_buffer(np.arange(0, (n + 1) * w, w, dtype=np.int32).tobytes())
    return pa.StringArray.from_buffers(n, offsets, pa.py_buffer(np.ascontiguousarray(mat).tobytes()))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    out = np.empty((len(values), width), dtype=np.uint8)
    v = values.astype(np.int64)
    for i in range(width - 1, -1, -1):
        out[:, i] = 48 + v % 10
        v = v // 10
    return out


def _coded(n: int, mask: np.ndarray, values: np.ndarray, fmt: Callable[[np.ndarray], list[str]]) -> pa.Array:
    """Format only the distinct values under mask (blank elsewhere) and broadcast them."""
    uniq, inv = np.unique(values[mask], return_inverse=True)
    codes = np.zeros(n, dtype=np.int32)
    codes[mask] = inv + 1
    return _take(["", *fmt(uniq)], codes)


def _dates(days: np.ndarray, mask: np.ndarray) -> pa.Array:
    return _coded(len(days), mask, days, lambda u: list(np.datetime_as_string(u.astype("datetime64[D]"))))


def _months(months: np.ndarray, mask: np.ndarray) -> pa.Array:  # months since 1970-01
    return _coded(len(months), mask, months, lambda u: list(u.astype("datetime64[M]").astype(str)))


def _yuan(keys: np.ndarray) -> list[str]:  # key = fen * 2 + (1 if written with cents)
    return [f"{k // 200}.{k // 2 % 100:02d}" if k % 2 else f"{k // 200}" for k in keys.tolist()]


def _money(fen: np.ndarray, cents: np.ndarray, mask: np.ndarray) -> pa.Array:
    """Yuan text: "312" without cents, "312.50" with."""
    return _coded(len(fen), mask, fen.astype(np.int64) * 2 + cents, _yuan)


def _within(group: np.ndarray, starts: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Running count of flag inside each contiguous group (1-based on flagged rows)."""
    cs = np.cumsum(flag)
    return cs - (cs[starts] - flag[starts])[group]


def _households(rng: np.random.Generator, n: int) -> np.ndarray:
    probs = [0.15, 0.25, 0.25, 0.18, 0.10, 0.07]  # sizes 1-6, mean ~3.0
    sizes = _choice(rng, n // 2 + 16, probs) + 1
    if sizes.sum() < n:
        sizes = np.concatenate([sizes, _choice(rng, n, probs) + 1])
    cum = np.cumsum(sizes)
    h = int(np.searchsorted(cum, n)) + 1
    sizes = sizes[:h].copy()
    sizes[-1] -= int(cum[h - 1]) - n
    return sizes


def _build(n: int, seed: int) -> dict[str, pa.Array]:
    rng = np.random.default_rng(seed)
    sizes = _households(rng, n)
    h = len(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    hh = np.repeat(np.arange(h), sizes)
    pos = np.arange(n) - starts[hh]
    col: dict[str, pa.Array] = {}

    # --- places and household ids: villages of varied size, contiguous rows per village, ~5 per town
    n_towns, n_vill = max(1, round(n / 4000)), max(1, round(n / 800))
    n_vill = max(n_vill, n_towns)
    weights = np.cumsum(rng.gamma(3.0, size=n_vill))
    village = np.searchsorted(weights / weights[-1], np.sort(rng.random(h)), side="right").clip(0, n_vill - 1)
    town = village * n_towns // n_vill
    serial = np.arange(h) - np.searchsorted(village, village)
    combos = [a + b for a in PLACE1 for b in PLACE2]
    order = rng.permutation(len(combos))
    names = [
        combos[order[i % len(combos)]] + (str(i // len(combos) + 1) if i >= len(combos) else "")
        for i in range(max(n_towns, n_vill))
    ]
    prefix = np.full((h, 4), np.frombuffer(b"5001", np.uint8))
    hh_ids = _fixed(np.hstack([prefix, _digits(village + 1, 6), _digits(serial + 1, 6)]))
    col["户编号"] = hh_ids.take(pa.array(hh))
    col["乡镇"] = _take([s + "镇" for s in names[:n_towns]], town[hh])
    col["行政村"] = _take([s + "村" for s in names[:n_vill]], village[hh])

    # --- household status
    tuopin = rng.random(h) < 0.08
    monitored = rng.random(h) < np.where(tuopin, 0.04, 0.0075)
    mon_type = np.where(tuopin, 1, 2 + (rng.random(h) < 0.3))  # 脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户
    col["户类型"] = _take(["一般农户", "脱贫户"], tuopin[hh])
    monitor_types = ["", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
    col["监测对象类别"] = _take(monitor_types, (mon_type * monitored)[hh])
    risk_day = _day("2023-01-01") + rng.integers(0, 365, h)
    col["风险消除日期"] = _dates(risk_day[hh], (monitored & (rng.random(h) < 0.4))[hh])
    dibao = rng.random(h) < np.where(monitored, 0.3, np.where(tuopin, 0.12, 0.032))
    area = np.where(rng.random(h) < 0.85, 2, 1) * dibao  # 1 城市, 2 农村
    col["低保类别"] = _take(["", "城市", "农村"], area[hh])
    m0 = (2015 - 1970) * 12
    start = m0 + rng.integers(0, 108, h)  # 2015-01 .. 2023-12
    end = start + (rng.random(h) * (m0 + 108 - start)).astype(np.int64)  # start .. 2023-12
    col["低保起始月"] = _months(start[hh], dibao[hh])
    col["低保终止月"] = _months(end[hh], (dibao & (rng.random(h) < 0.1))[hh])
    income = np.where(rng.random(h) < 0.9, rng.integers(0, 55000, h), rng.integers(55000, 70001, h))
    inc_cents = rng.random(h) < 0.4
    income = np.where(inc_cents, income, income // 100 * 100)
    col["家庭月人均收入"] = _money(income[hh], inc_cents[hh], dibao[hh])
    vehicle = np.where(dibao, _choice(rng, h, [0.38, 0.60, 0.02]), _choice(rng, h, [0.85, 0.10, 0.05]))
    col["家庭有机动车"] = _take(YESNO, vehicle[hh])

    # --- relations (at most two 父母) and ages at 2023-12-31 consistent with them
    second, later = [0, 0.80, 0.12, 0.05, 0, 0.03], [0, 0, 0.68, 0.14, 0.12, 0.06]  # shares by RELATIONS
    rel = np.where(pos == 1, _choice(rng, n, second), _choice(rng, n, later))
    rel[pos == 0] = HEAD
    rel[(rel == PARENT) & (_within(hh, starts, (rel == PARENT).astype(np.int64)) > 2)] = CHILD
    alone = np.where(rng.random(h) < 0.6, rng.integers(60, 93, h), rng.integers(22, 60, h))
    head_h = np.where(sizes == 1, alone, rng.normal(50, 13, h).round())
    head = head_h.clip(20, 92).astype(np.int64)[hh]
    age = head.copy()
    age[rel == SPOUSE] = (head + rng.normal(0, 4, n).round()).clip(18, 98)[rel == SPOUSE]
    parent_age = head + rng.integers(20, 35, n)
    rel[(rel == PARENT) & (parent_age > 98)] = CHILD
    grand_age = head - rng.integers(44, 63, n)
    rel[(rel == GRANDCHILD) & (grand_age < 0)] = CHILD
    child_age = head - rng.integers(20, 41, n)
    child_age = np.where(child_age < 0, (rng.random(n) * (head - 19)).astype(np.int64), child_age)
    other_age = rng.integers(0, 86, n)
    for r, a in ((PARENT, parent_age), (GRANDCHILD, grand_age), (CHILD, child_age), (OTHER, other_age)):
        age[rel == r] = a[rel == r]
    col["与户主关系"] = _take(RELATIONS, rel)

    # --- birth date, sex, 证件号码 (unique slot per birth date and sex), names
    year = 2023 - age
    y0 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    y1 = (year - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    birth = y0 + (rng.random(n) * (y1 - y0)).astype(np.int64)
    bdt = birth.astype("datetime64[D]")
    month = bdt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (bdt - bdt.astype("datetime64[M]")).astype(np.int64) + 1
    male_h = rng.random(h) < 0.85
    male = np.where(rel == HEAD, male_h[hh], np.where(rel == SPOUSE, ~male_h[hh], rng.random(n) < 0.5))
    key = (birth - EPOCH_1925) * 2 + male
    order = np.argsort(key, kind="stable")
    ks = key[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.searchsorted(ks, ks)
    if n and rank.max() >= SLOTS:
        raise ValueError("too many persons share a birth date for unique 证件号码")
    offset = rng.integers(0, SLOTS, _day("2024-01-01") - EPOCH_1925)
    slot = (offset[birth - EPOCH_1925] + 1237 * rank) % SLOTS
    region = np.frombuffer("".join(REGIONS).encode(), np.uint8).reshape(-1, 6)
    parts = [region[slot // 500], _digits(year, 4), _digits(month, 2), _digits(mday, 2)]
    ids = np.hstack([*parts, _digits(slot % 500 * 2 + male, 3), np.zeros((n, 1), np.uint8)])
    ids[:, 17] = CHECK[((ids[:, :17].astype(np.int64) - 48) @ WEIGHTS) % 11]
    col["证件号码"] = _fixed(ids)
    surname_h = rng.integers(0, len(SURNAMES), h)
    family = (rel == HEAD) | (((rel == CHILD) | (rel == GRANDCHILD)) & (rng.random(n) < 0.9))
    surname = np.where(family, surname_h[hh], rng.integers(0, len(SURNAMES), n))
    given2 = np.where(rng.random(n) < 0.3, 0, rng.integers(1, len(GIVEN) + 1, n))
    given1 = rng.integers(0, len(GIVEN), n)
    col["姓名"] = pc.binary_join_element_wise(
        _take(SURNAMES, surname), _take(GIVEN, given1), _take(["", *GIVEN], given2), ""
    )

    # --- person status
    covered = dibao[hh] & (rng.random(n) < np.where(rel == HEAD, 0.95, 0.88))
    col["低保在保"] = _take(YESNO, np.where(dibao[hh], 1 + covered, 0))
    tekun = rng.random(n) < np.where((sizes[hh] == 1) & (age >= 60), 0.1, np.where(age >= 60, 0.001, 0.0))
    col["特困人员"] = _take(YESNO, np.where(tekun, 2, rng.random(n) < 0.3))
    payroll = (age >= 22) & (age <= 60) & (rng.random(n) < 0.009)
    col["财政供养人员"] = _take(YESNO, np.where(payroll, 2, rng.random(n) < 0.3))
    insured = np.where(payroll, 2, _choice(rng, n, [0.15, 0.81, 0.04]))  # blank(=是) / 是 / 否
    col["参加城乡居民医保"] = _take(["", "是", "否"], insured)
    disabled = rng.random(n) < 0.04 + 0.07 * (age >= 60) + 0.07 * (age >= 75)
    suffix = np.stack([48 + rng.integers(1, 8, n), 48 + 1 + _choice(rng, n, [0.1, 0.2, 0.35, 0.35])], axis=1)
    cert = _fixed(np.hstack([ids, suffix.astype(np.uint8)]))
    valid_to = _day("2021-01-01") + rng.integers(0, 3652, n)
    col["残疾证有效期至"] = _dates(valid_to, disabled & (rng.random(n) < 0.25))

    # --- school by age on 2023-09-01
    age_sep = 2023 - year - (month * 100 + mday > 901)
    u = rng.random(n)
    conds = [(age_sep >= lo) & (age_sep <= hi) & (u < p) for lo, hi, p, _ in SCHOOL_BY_AGE]
    stage = np.select(conds, [st for *_, st in SCHOOL_BY_AGE], 0)
    first_age, last_grade = np.array([0, 0, 6, 12, 15, 15, 18]), np.array([0, 0, 6, 3, 3, 3, 3])
    grade = np.where(stage >= 2, (age_sep - first_age[stage] + 1).clip(1, last_grade[stage]), 0)
    grade[(stage != 5) & (rng.random(n) < 0.1)] = 0  # 年级 is only required for 中职
    col["在校学段"] = _take(STAGES, stage)
    board_p = np.array([0, 0, 0.15, 0.4, 0.7, 0.5, 0.5])[stage]
    board = np.where(rng.random(n) < board_p, 2, np.where((stage > 0) & (rng.random(n) < 0.5), 1, 0))
    col["是否寄宿"] = _take(YESNO, board)
    col["年级"] = _take(["", "1", "2", "3", "4", "5", "6"], grade)

    # --- migrant work, tickets, deaths
    died = rng.random(n) < 0.003 + 0.025 * (age >= 70) + 0.05 * (age >= 85)
    worker = (age >= 16) & (age <= 64) & (stage == 0) & ~died & (rng.random(n) < 0.19)
    loc = np.where(worker, 1 + _choice(rng, n, [0.3, 0.35, 0.35]), 0)
    col["务工地点"] = _take(["", "县内", "区县外市内", "市外"], loc)
    fen = np.where(loc == 3, rng.integers(120, 1201, n), rng.integers(40, 161, n)) * 100
    t_cents = rng.random(n) < 0.3
    fen = np.where(t_cents, fen + np.where(rng.random(n) < 0.5, 50, rng.integers(0, 100, n)), fen)
    fen[rng.random(n) < 0.02] = 0
    col["往返车票金额"] = _money(fen, t_cents, (loc >= 2) & (rng.random(n) < 0.4))
    death = np.maximum(_day("2022-01-01") + rng.integers(0, 730, n), birth)
    col["死亡日期"] = _dates(death, died)
    col["残疾证号"] = pc.if_else(pa.array(disabled), cert, "")
    return col


def _corrupt(col: dict[str, pa.Array], n: int, seed: int, bad_fraction: float) -> None:
    """Corrupt round(bad_fraction * n) rows in place, six kinds in rotation."""
    k = min(n, round(bad_fraction * n))
    if k == 0:
        return
    rng = np.random.default_rng([seed, 1])
    rows = rng.choice(n, size=k, replace=False)
    kind = np.arange(k) % 6
    touched_cols = ["证件号码", "死亡日期", "在校学段", "与户主关系", "务工地点", "往返车票金额", "年级"]
    arr = {c: col[c].to_numpy(zero_copy_only=False).astype(object) for c in [*touched_cols, "残疾证号"]}
    ids = arr["证件号码"]
    sum_rows = rows[kind == 0]  # bad checksum: any other check character
    for i, row in zip(rng.integers(0, 10, len(sum_rows)), sum_rows, strict=True):
        ids[row] = ids[row][:17] + "10X98765432".replace(ids[row][17], "")[i]
    date_rows = rows[kind == 1]
    arr["死亡日期"][date_rows] = np.array(BAD_DATES, dtype=object)[rng.integers(0, 6, len(date_rows))]
    enum_rows = rows[kind == 2]  # unknown enum value, in one of three columns
    which = rng.integers(0, 3, len(enum_rows))
    arr["在校学段"][enum_rows[which == 0]] = "大学"
    arr["与户主关系"][enum_rows[which == 1]] = "儿媳"
    arr["务工地点"][enum_rows[which == 2]] = "省外"
    money_rows = rows[kind == 3]
    yuan, milli = rng.integers(40, 900, len(money_rows)), rng.integers(1, 1000, len(money_rows))
    arr["往返车票金额"][money_rows] = [f"{a}.{b:03d}" for a, b in zip(yuan, milli, strict=True)]
    arr["在校学段"][rows[kind == 4]] = "中职"
    arr["年级"][rows[kind == 4]] = ""
    dup_rows = rows[kind == 5]  # copy the 证件号码 of another row, an uncorrupted one when there is one
    clean = np.setdiff1d(np.arange(n), rows)
    if len(clean):
        ids[dup_rows] = ids[clean[rng.integers(0, len(clean), len(dup_rows))]]
    certs = arr["残疾证号"]  # keep 残疾证号 consistent with the (possibly changed) own 证件号码
    touched = rows[(kind == 0) | (kind == 5)]
    touched = touched[certs[touched] != ""]
    certs[touched] = [i + c[18:] for i, c in zip(ids[touched], certs[touched], strict=True)]
    for c, values in arr.items():
        col[c] = pa.array(values, pa.string())


def build_table(n_persons: int, seed: int = 0, bad_fraction: float = 0.0) -> pa.Table:
    """The roster as a pyarrow Table of string columns (what generate() and the CLI use)."""
    if n_persons < 1:
        raise ValueError("n_persons must be >= 1")
    col = _build(n_persons, seed)
    _corrupt(col, n_persons, seed, bad_fraction)
    return pa.table([col[c] for c in COLUMNS], names=COLUMNS)


def generate(n_persons: int, seed: int = 0, bad_fraction: float = 0.0) -> pd.DataFrame:
    """A roster of n_persons rows: the 26 SPEC §2 columns, Chinese headers, text values, "" for blank."""
    return build_table(n_persons, seed, bad_fraction).to_pandas()


def write(table: pa.Table, out: Path) -> None:
    """UTF-8 CSV (no BOM, unquoted: no value contains , " or a newline) or Parquet, by extension."""
    if out.suffix.lower() == ".parquet":
        pq.write_table(table, out)
    elif out.suffix.lower() == ".csv":
        with out.open("wb") as f:
            f.write((",".join(table.column_names) + "\n").encode("utf-8"))
            pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    else:
        raise SystemExit(f"unsupported output type {out.suffix!r}: use .csv or .parquet")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of persons (rows)")
    p.add_argument("out", type=Path, help="output file, .csv or .parquet")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bad-fraction", type=float, default=None, help="share of rows to corrupt (default 0)")
    p.add_argument(
        "--realistic",
        action="store_true",
        help="bad rows of every kind (default 1 %%), spelling variants, blank lines, split households "
        "(realistic_roster.py)",
    )
    p.add_argument("--no-blank-lines", action="store_true", help="--realistic without blank lines")
    a = p.parse_args(argv)
    if a.realistic:
        from realistic_roster import realistic_table, write_realistic  # late: imports this module

        bad = 0.01 if a.bad_fraction is None else a.bad_fraction
        write_realistic(*realistic_table(a.n, a.seed, bad), a.out, blank_lines=not a.no_blank_lines)
    else:
        write(build_table(a.n, a.seed, a.bad_fraction or 0.0), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
