"""A run's payment list for the page: the stored payments.csv parsed once per run, searched by an opaque keyed
token, filtered by 行政村 and 项目, and cut into pages, with the count and exact sum of what matched.

A search term (姓名, 证件号码 or 户编号, typed in full) is never carried in a URL: the form posts it, the server
turns it into a keyed token (HMAC-SHA256 with the app's secret key, written as 32 letters a–p so nothing in it
looks like a number) and the page's address holds only that token. The parsed list keeps the tokens of every
row's 证件号码, 姓名 and 户编号, so the page matches a token without ever seeing the term again.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from subsidy_engine.money import fen, fen_text
from subsidy_engine.privacy import mask_id
from subsidy_engine.run.excel import read_machine_csv

PAGE_SIZE = 50
CACHED_RUNS = 4  # parsed lists kept per process (the seed's: about 12,000 lines, a few MB)
KEYS = ("证件号码", "姓名", "户编号")
_LETTERS = "abcdefghijklmnop"


def normal(term: str) -> str:
    """A term as it is compared: no spaces anywhere, a final x of a 证件号码 as X."""
    return "".join(str(term).split()).upper()


def search_token(secret: str, term: str) -> str:
    """The keyed token of a search term (the same for the term and for a row's value that equals it)."""
    mac = hmac.new(secret.encode(), b"payments-search\0" + normal(term).encode(), hashlib.sha256)
    return "".join(_LETTERS[b >> 4] + _LETTERS[b & 15] for b in mac.digest()[:16])


def is_token(text: str) -> bool:
    return len(text) == 32 and all(c in _LETTERS for c in text)


@dataclass(frozen=True)
class PayList:
    """One run's lines as text, with each line's amount in fen and the tokens of its search keys."""

    frame: pd.DataFrame  # the columns of payments.csv, then _fen and _key_证件号码, _key_姓名, _key_户编号

    @classmethod
    def parse(cls, data: bytes, secret: str) -> PayList:
        frame = read_machine_csv(data)
        amounts = {v: fen(v) for v in frame["金额"].unique()}
        frame["_fen"] = frame["金额"].map(amounts).astype("int64")
        for key in KEYS:
            tokens = {v: search_token(secret, v) for v in frame[key].unique()}
            frame[f"_key_{key}"] = frame[key].map(tokens)
        return cls(frame)

    def villages(self, by_town: bool) -> list[tuple[str, str]]:
        """(value, label) of the 行政村 filter, in the list's order; with the 乡镇 when a run spans several."""
        seen = self.frame[["乡镇", "行政村"]].drop_duplicates()
        if not by_town:
            return [(v, v) for v in dict.fromkeys(seen["行政村"])]
        return [(f"{t}/{v}", f"{v}({t})") for t, v in seen.itertuples(index=False)]

    def programs(self) -> list[str]:
        return list(dict.fromkeys(self.frame["项目"]))


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    matched: int
    total: str  # yuan, exact: "6393238.00"
    page: int
    pages: int
    found_by: str  # which key a token matched ("" without a search)
    found_value: str  # that key's value on the first match, masked when it is a 证件号码


def select(paylist: PayList, *, token: str = "", village: str = "", program: str = "", page: int = 1) -> Page:
    """The rows that match every given filter, page `page` of them (clamped to the pages there are)."""
    f = paylist.frame
    mask = pd.Series(True, index=f.index)
    found_by = found_value = ""
    if token:
        hit = pd.Series(False, index=f.index)
        for key in KEYS:
            mine = f[f"_key_{key}"] == token
            if mine.any() and not found_by:
                found_by, found_value = key, str(f.loc[mine, key].iat[0])
            hit |= mine
        mask &= hit
    if village:
        town, _, name = village.rpartition("/")
        mask &= f["行政村"] == name
        if town:
            mask &= f["乡镇"] == town
    if program:
        mask &= f["项目"] == program
    chosen = f[mask]
    pages = max(1, math.ceil(len(chosen) / PAGE_SIZE))
    page = min(max(page, 1), pages)
    part = chosen.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    shown = [c for c in f.columns if not c.startswith("_")]
    rows = [dict(zip(shown, r, strict=True)) for r in part[shown].itertuples(index=False, name=None)]
    for r in rows:
        r["证件号码"] = mask_id(r["证件号码"])
    if found_by == "证件号码":
        found_value = mask_id(found_value)
    return Page(rows, len(chosen), fen_text(int(chosen["_fen"].sum())), page, pages, found_by, found_value)


def page_links(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers to link: the first, the last and `around` either side of the current; None for a gap."""
    wanted = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for n in wanted:
        if out and out[-1] is not None and n > out[-1] + 1:
            out.append(None)
        out.append(n)
    return out


class Cache:
    """The parsed lists of the last few runs asked for, keyed by what identifies the file's content (the run,
    its recorded sha256, and the file's size and modification time: a changed file is read, and refused,
    again)."""

    def __init__(self, size: int = CACHED_RUNS) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], PayList] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], load: Callable[[], PayList]) -> PayList:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()  # outside the lock: another run's page need not wait for this one
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
