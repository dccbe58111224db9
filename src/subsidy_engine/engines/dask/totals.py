"""Totals of a streamed dask run, added up from each partition's `totals_frame` (the payment list never meets).

人次 and 金额 (integer fen) add up across partitions; so does 人数, because a household and an accepted
证件号码 live in one partition only (households are shuffled whole, and every copy of a duplicated number is
rejected). 依赖假定参数 cannot be added up as text: totals_frame flags a row with the assumed parameters of the
*rules* behind it, over the whole run. So each partition computes its totals with one marker bit per rule in
place of the assumed parameters (which rules are behind each row), the bits are OR-ed, and the flags are
looked up at the end in the run's assumed parameters. Rows keep totals_frame's order: each block (program,
rule, grand total) in rulebook order, its overall row first, then its places in (乡镇, 行政村) text order.
Everything is integer arrays, so tens of thousands of villages times hundreds of partitions stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.payments import amounts_fen, yuan
from subsidy_engine.run.totals import TOTAL_COLUMNS, check_sum_fits, totals_frame

BLOCK = ["项目", "项目名称", "规则"]
PLACE = ["乡镇", "行政村"]


@dataclass
class Partial:
    blocks: list[tuple[str, str, str]]  # (项目, 项目名称, 规则) of each block, the same in every partition
    places: list[tuple[str, str]]
    block: np.ndarray  # per row: block index
    place: np.ndarray  # per row: index into places, -1 = the block's overall row
    counts: np.ndarray  # per row: 人数, 人次, fen (int64, shape (n, 3))
    bits: np.ndarray  # per row: rules behind it, uint64 words (shape (n, words))


def _rules(rulebook: Rulebook) -> list[tuple[str, str]]:
    return [(p.id, r.id) for p in rulebook.programs for r in p.rules]


def partial_totals(payments: pd.DataFrame, rulebook: Rulebook) -> Partial:
    rules = _rules(rulebook)
    words = max(1, (len(rules) + 63) // 64)
    markers = {rp: {str(i)} for i, rp in enumerate(rules)}
    t = totals_frame(payments, rulebook, markers)
    overall = ((t["乡镇"] == "") & (t["行政村"] == "")).to_numpy()
    block = np.cumsum(overall) - 1
    blocks = [(str(a), str(b), str(c)) for a, b, c in t.loc[overall, BLOCK].to_numpy(dtype=object).tolist()]
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(t.loc[~overall, PLACE]))
    place = np.full(len(t), -1, dtype=np.int64)
    place[~overall] = codes
    flag_text, flag_codes = np.unique(t["依赖假定参数"].to_numpy(dtype=str), return_inverse=True)
    table = np.zeros((len(flag_text), words), dtype=np.uint64)
    for k, text in enumerate(flag_text):
        for m in filter(None, str(text).split("; ")):
            table[k, int(m) // 64] |= np.uint64(1) << np.uint64(int(m) % 64)
    counts = np.stack(
        [t["人数"].to_numpy(np.int64), t["人次"].to_numpy(np.int64), amounts_fen(t[["金额"]])], axis=1
    )
    return Partial(
        blocks,
        [(str(a), str(b)) for a, b in uniques],
        block.astype(np.int64),
        place,
        counts,
        table[flag_codes.reshape(-1)],
    )


def merge_totals(
    partials: list[Partial], rulebook: Rulebook, assumed: dict[tuple[str, str], set[str]]
) -> pd.DataFrame:
    rules = _rules(rulebook)
    blocks = partials[0].blocks
    places = sorted({p for part in partials for p in part.places})
    rank = {p: i + 1 for i, p in enumerate(places)}  # 0: the overall row
    width = len(places) + 1
    keys, counts, bits = [], [], []
    for part in partials:
        to_global = np.array([rank[p] for p in part.places] + [0], dtype=np.int64)  # index -1 → 0
        keys.append(part.block * width + to_global[part.place])
        counts.append(part.counts)
        bits.append(part.bits)
    key = np.concatenate(keys)
    check_sum_fits(np.concatenate(counts)[:, 2])  # every merged total is a sum of some of these rows
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sums = np.add.reduceat(np.concatenate(counts)[order], starts, axis=0)
    union = np.bitwise_or.reduceat(np.concatenate(bits)[order], starts, axis=0)
    flag_rows, flag_codes = np.unique(union, axis=0, return_inverse=True)
    flags = []
    for row in flag_rows:
        used = [rules[w * 64 + b] for w, word in enumerate(row) for b in range(64) if int(word) >> b & 1]
        flags.append("; ".join(sorted(set().union(*(assumed.get(rp, set()) for rp in used)))))
    uk = key[starts]
    b, pl = uk // width, uk % width
    place_of = [("", ""), *places]
    out = pd.DataFrame(
        {
            "项目": [blocks[i][0] for i in b],
            "项目名称": [blocks[i][1] for i in b],
            "规则": [blocks[i][2] for i in b],
            "乡镇": [place_of[i][0] for i in pl],
            "行政村": [place_of[i][1] for i in pl],
            "人数": sums[:, 0],
            "人次": sums[:, 1],
            "金额": yuan(sums[:, 2]),
            "依赖假定参数": np.array(flags, dtype=object)[flag_codes.reshape(-1)],
        }
    )
    return out[TOTAL_COLUMNS]
