"""Two scenarios' lines compared: per program, per (乡镇, 行政村, 项目), per household, line by line, and the
distribution of the households' monthly gains. Amounts are summed in integer fen and shown with two decimals.

Lines are matched on (reference date, program, person) and, in a program that pays every rule that holds
(hit policy `collect`), also on the rule; in a program that pays one rule (`highest`, `first`) a change of
rule is one changed line with both rules side by side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from subsidy_engine.arrays import sorted_codes, text_codes
from subsidy_engine.engines.contract import month_code
from subsidy_engine.impact.evaluate import Lines, Pair
from subsidy_engine.privacy import mask_id
from subsidy_engine.roster.cells import month_text
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.payments import text_rank, yuan

SUMMARY_COLUMNS = ["项目", "项目名称", "基线人次", "测算人次", "基线金额", "测算金额", "差额"]
VILLAGE_COLUMNS = ["乡镇", "行政村", *SUMMARY_COLUMNS]
HOUSEHOLD_COLUMNS = [
    "户编号",
    "户主姓名",
    "乡镇",
    "行政村",
    "基线金额",
    "测算金额",
    "差额",
    "变化",
    "涉及项目",
]
CHANGE_COLUMNS = [
    *["发放月份", "项目", "户编号", "证件号码", "姓名", "乡镇", "行政村"],
    *["基线规则", "基线金额", "测算规则", "测算金额", "差额"],
]
GAIN_COLUMNS = ["月均增加(元)", "户数"]
CHANGE_KINDS = ("增加", "减少", "新纳入", "退出")
BAND_FEN = 5000  # gains are counted in bands of 50 元 a month
TOP_BAND = 10  # … the last band is 500 元 or more


@dataclass
class Impact:
    summary: pd.DataFrame
    villages: pd.DataFrame
    households: pd.DataFrame
    changes: pd.DataFrame
    gains: pd.DataFrame
    counts: dict[str, int]  # households per 变化 (增加 / 减少 / 新纳入 / 退出)


@dataclass
class _Side:
    """One scenario's lines in the union code spaces: program, matching slot, person, date, fen."""

    program: np.ndarray
    rule: np.ndarray
    slot: np.ndarray
    pos: np.ndarray
    date: np.ndarray
    amount: np.ndarray


def compare(pair: Pair, persons: pd.DataFrame, baseline: Rulebook, reform: Rulebook) -> Impact:
    programs = [(p.id, p.title) for p in baseline.programs]
    programs += [(p.id, p.title) for p in reform.programs if p.id not in {q for q, _ in programs}]
    rules = list(dict.fromkeys(pair.baseline.rules + pair.reform.rules))
    collect = {p.id for rb in (baseline, reform) for p in rb.programs if p.hit_policy == "collect"}
    a = _side(pair.baseline, programs, rules, collect)
    b = _side(pair.reform, programs, rules, collect)
    hh, hh_ids = text_codes(persons["household_id"])
    place, places = _places(persons)
    names = [p for p, _ in programs]
    titles = [t for _, t in programs]
    summary = _summary(a, b, None, [()], names, titles)
    villages = _summary(a, b, place, places, names, titles)
    joined = _join(a, b, len(rules) + len(programs), len(persons))
    households, counts, gains = _households(a, b, joined, hh, hh_ids, persons, place, places, names, pair)
    changes = _changes(joined, persons, place, places, names, rules, pair.baseline.dates, hh_ids, hh)
    return Impact(summary, villages, households, changes, gains, counts)


def _side(
    lines: Lines, programs: list[tuple[str, str]], rules: list[tuple[str, str]], collect: set[str]
) -> _Side:
    program_of = {p: i for i, (p, _) in enumerate(programs)}
    rule_of = {r: i for i, r in enumerate(rules)}
    to_rule = np.array([rule_of[r] for r in lines.rules] or [0], dtype=np.int64)
    to_program = np.array([program_of[p] for p, _ in lines.rules] or [0], dtype=np.int64)
    # a collect program's lines are matched rule by rule; a one-rule program's line per program
    to_slot = np.array(
        [rule_of[(p, r)] if p in collect else len(rules) + program_of[p] for p, r in lines.rules] or [0],
        dtype=np.int64,
    )
    return _Side(
        to_program[lines.rule], to_rule[lines.rule], to_slot[lines.rule], lines.pos, lines.date, lines.amount
    )


def _places(persons: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each person's (乡镇, 行政村) as a code; the codes ordered as the texts sort."""
    town, towns = text_codes(persons["town"])
    village, villages = text_codes(persons["village"])
    width = max(len(villages), 1)
    uniq, code = sorted_codes(town * width + village)
    pairs = [(str(towns[u // width]), str(villages[u % width])) for u in uniq.tolist()]
    order = sorted(range(len(pairs)), key=lambda i: pairs[i])
    rank = np.empty(len(pairs), dtype=np.int64)
    rank[order] = np.arange(len(pairs))
    return rank[code] if len(pairs) else code, [pairs[i] for i in order]


def _sums(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, codes, values)
    return out


def _summary(
    a: _Side,
    b: _Side,
    place: np.ndarray | None,
    places: list[tuple[str, ...]],
    names: list[str],
    titles: list[str],
) -> pd.DataFrame:
    """人次 and 金额 of both scenarios per (place, program), then the place's 合计; without places (summary.csv)
    every program has a row, by place only the programs with a line there."""
    k = len(names)
    by_place = place is not None

    def stats(s: _Side) -> tuple[np.ndarray, np.ndarray]:
        group = (place[s.pos] if place is not None else np.zeros(len(s.pos), dtype=np.int64)) * k + s.program
        size = len(places) * k
        return np.bincount(group, minlength=size).astype(np.int64), _sums(group, s.amount, size)

    (na, fa), (nb, fb) = stats(a), stats(b)
    rows: list[list[object]] = []
    for i, where in enumerate(places):
        block = slice(i * k, (i + 1) * k)
        if by_place and not (na[block].any() or nb[block].any()):
            continue
        for j in range(k):
            g = i * k + j
            if by_place and not (na[g] or nb[g]):
                continue
            rows.append([*where, names[j], titles[j], na[g], nb[g], fa[g], fb[g]])
        rows.append([*where, "", "合计", na[block].sum(), nb[block].sum(), fa[block].sum(), fb[block].sum()])
    columns = VILLAGE_COLUMNS if by_place else SUMMARY_COLUMNS
    frame = pd.DataFrame(rows, columns=[*columns[:-3], "_a", "_b"])
    return _money(frame, columns)


def _money(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    fa = frame["_a"].to_numpy(dtype=np.int64)
    fb = frame["_b"].to_numpy(dtype=np.int64)
    frame["基线金额"], frame["测算金额"], frame["差额"] = yuan(fa), yuan(fb), yuan(fb - fa)
    for c in ("基线人次", "测算人次"):
        if c in frame:
            frame[c] = frame[c].astype(np.int64)
    return frame[columns]


@dataclass
class _Joined:
    """The changed line pairs: key parts, each side's rule (-1: no line) and fen."""

    date: np.ndarray
    slot: np.ndarray
    pos: np.ndarray
    program: np.ndarray
    rule_a: np.ndarray
    rule_b: np.ndarray
    fen_a: np.ndarray
    fen_b: np.ndarray


def _join(a: _Side, b: _Side, slots: int, n: int) -> _Joined:
    """Lines of both scenarios matched on (date, slot, person); only the pairs that differ are kept."""
    ka = (a.date * slots + a.slot) * n + a.pos
    kb = (b.date * slots + b.slot) * n + b.pos
    keys, code = sorted_codes(np.concatenate([ka, kb]))
    ca, cb = code[: len(ka)], code[len(ka) :]
    g = len(keys)
    rule_a, rule_b = np.full(g, -1, dtype=np.int64), np.full(g, -1, dtype=np.int64)
    fen_a, fen_b = np.zeros(g, dtype=np.int64), np.zeros(g, dtype=np.int64)
    program = np.zeros(g, dtype=np.int64)
    rule_a[ca], fen_a[ca], program[ca] = a.rule, a.amount, a.program
    rule_b[cb], fen_b[cb], program[cb] = b.rule, b.amount, b.program
    keep = (fen_a != fen_b) | (rule_a != rule_b)
    keys = keys[keep]
    pos = keys % n
    rest = keys // n
    return _Joined(
        rest // slots, rest % slots, pos, program[keep], rule_a[keep], rule_b[keep], fen_a[keep], fen_b[keep]
    )


def _households(
    a: _Side,
    b: _Side,
    j: _Joined,
    hh: np.ndarray,
    hh_ids: np.ndarray,
    persons: pd.DataFrame,
    place: np.ndarray,
    places: list[tuple[str, ...]],
    names: list[str],
    pair: Pair,
) -> tuple[pd.DataFrame, dict[str, int], pd.DataFrame]:
    """households.csv (households whose total differs, by 户编号), the count per 变化, and the gains."""
    n_hh = len(hh_ids)
    total_a = _sums(hh[a.pos], a.amount, n_hh)
    total_b = _sums(hh[b.pos], b.amount, n_hh)
    which = np.flatnonzero(total_a != total_b)
    ta, tb = total_a[which], total_b[which]
    kind = np.where(ta == 0, 2, np.where(tb == 0, 3, np.where(tb > ta, 0, 1)))
    # the programs whose amount for the household differs, and the months in which its total differs
    k = len(names)
    line_hh = hh[j.pos]
    diff = j.fen_b - j.fen_a
    per_program, program_key = _group_sums(line_hh * k + j.program, diff)
    involved: dict[int, list[str]] = {}
    for key in program_key[per_program != 0].tolist():  # ascending: by household, then program order
        involved.setdefault(key // k, []).append(names[key % k])
    months = np.array([month_code(d) for d in pair.baseline.dates] or [0], dtype=np.int64)
    per_month, month_key = _group_sums(line_hh * (int(months.max()) + 1) + months[j.date], diff)
    changed_months = np.bincount(month_key[per_month != 0] // (int(months.max()) + 1), minlength=n_hh)
    head = np.full(n_hh, -1, dtype=np.int64)
    is_head = (persons["relation"].astype(object) == "户主").to_numpy()
    head[hh[is_head]] = np.flatnonzero(is_head)
    member = np.zeros(n_hh, dtype=np.int64)
    member[hh] = np.arange(len(hh))
    name = persons["name"].to_numpy(dtype=object)
    where = [places[c] for c in place[member[which]].tolist()]
    frame = pd.DataFrame(
        {
            "户编号": hh_ids[which].astype(object),
            "户主姓名": [name[h] if h >= 0 else "" for h in head[which].tolist()],
            "乡镇": [w[0] for w in where],
            "行政村": [w[1] for w in where],
            "_a": ta,
            "_b": tb,
            "变化": np.array(CHANGE_KINDS, dtype=object)[kind],
            "涉及项目": ["; ".join(involved.get(h, [])) for h in which.tolist()],
        }
    )
    order = np.argsort(text_rank(frame["户编号"].to_numpy(dtype=object)), kind="stable")
    frame = _money(frame.iloc[order].reset_index(drop=True), HOUSEHOLD_COLUMNS)
    counts = {c: int((kind == i).sum()) for i, c in enumerate(CHANGE_KINDS)}
    gains = gain_bands(tb - ta, changed_months[which])
    return frame, counts, gains


def _group_sums(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact integer sums of values per distinct key: (sums, keys ascending)."""
    uniq, code = sorted_codes(keys)
    return _sums(code, values, len(uniq)), uniq


def gain_bands(diff: np.ndarray, months: np.ndarray) -> pd.DataFrame:
    """How many households gain how much a month: the gain (差额 > 0) divided by the number of payment months in
    which the household's total differs, counted in bands of 50 元 (0–50 means up to 49.99), the last 500 元 or
    more; every band up to the highest one reached is listed."""
    gain = diff > 0
    band = np.minimum(diff[gain] // (np.maximum(months[gain], 1) * BAND_FEN), TOP_BAND)
    counts = np.bincount(band, minlength=1) if len(band) else np.zeros(0, dtype=np.int64)
    labels = [
        f"{i * BAND_FEN // 100}–{(i + 1) * BAND_FEN // 100}"
        if i < TOP_BAND
        else f"{i * BAND_FEN // 100} 以上"
        for i in range(len(counts))
    ]
    return pd.DataFrame({GAIN_COLUMNS[0]: labels, GAIN_COLUMNS[1]: counts.astype(np.int64)})


def _changes(
    j: _Joined,
    persons: pd.DataFrame,
    place: np.ndarray,
    places: list[tuple[str, ...]],
    names: list[str],
    rules: list[tuple[str, str]],
    dates: list[dt.date],
    hh_ids: np.ndarray,
    hh: np.ndarray,
) -> pd.DataFrame:
    """changes.csv: the changed lines side by side, sorted by 发放月份, 项目, 户编号, 证件号码, slot; the
    证件号码 masked (this is not a bank list)."""
    rule_ids = np.array([r for _, r in rules] + [""], dtype=object)  # index -1: no line
    month = np.array([month_text(month_code(d)) for d in dates] or [""], dtype=object)[j.date]
    program = np.array(names, dtype=object)[j.program]
    hh_text = hh_ids.astype(object)[hh[j.pos]]
    ids = persons["id_number"].to_numpy(dtype=object)[j.pos]
    order = np.lexsort((j.slot, text_rank(ids), text_rank(hh_text), text_rank(program), j.date))
    where = [places[c] for c in place[j.pos[order]].tolist()]
    frame = pd.DataFrame(
        {
            "发放月份": month[order],
            "项目": program[order],
            "户编号": hh_text[order],
            "证件号码": [mask_id(x) for x in ids[order]],
            "姓名": persons["name"].to_numpy(dtype=object)[j.pos[order]],
            "乡镇": [w[0] for w in where],
            "行政村": [w[1] for w in where],
            "基线规则": rule_ids[j.rule_a[order]],
            "测算规则": rule_ids[j.rule_b[order]],
            "_a": j.fen_a[order],
            "_b": j.fen_b[order],
        }
    )
    return _money(frame, CHANGE_COLUMNS)
