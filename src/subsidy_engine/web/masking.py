"""What the web app shows of personal data and of the server: ID-shaped text masked, server paths removed.

A 证件号码 is masked (first 6 + ******** + last 4) wherever it appears on a page, in a log line or in a masked
download, and so is anything that looks like one or like an account number (privacy.mask_text says which
shapes). Error messages name a file by the name its user gave it, never by its place on the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from subsidy_engine import privacy
from subsidy_engine.privacy import mask_id

_GENERATED_ID = re.compile(r"[0-9a-f]{32}")  # store.new_id(): shown in links, never personal
# the same inside a link or a log line (with a letter: 32 digits in a row are masked as any digit run)
_LINKED_ID = re.compile(r"(?<![0-9A-Za-z])(?=[0-9]*[a-f])[0-9a-f]{32}(?![0-9A-Za-z])")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:/[^\s/:：,，;；'\"()（）<>]+){2,}/?")


def mask_text(value: object, keep: Iterable[str] = ()) -> str:
    """`value` as text with every ID-shaped part masked (privacy.mask_text), except the exact strings in `keep`
    and the generated ids of the store in links and log lines."""
    kept = frozenset(keep)
    text = str(value)
    parts = _LINKED_ID.split(text)  # `/runs/<id>/…`: a digit run inside the id is not a 证件号码
    if len(parts) > 1:
        ids = _LINKED_ID.findall(text)
        return "".join(
            privacy.mask_text(p, kept) + (ids[i] if i < len(ids) else "") for i, p in enumerate(parts)
        )
    return privacy.mask_text(text, kept)


def finalize(value: object) -> object:
    """Jinja's `finalize`: every `{{ … }}` on every page goes through the mask (Markup and ids pass)."""
    if value is None or isinstance(value, (Markup, bool)):
        return value
    text = str(value)
    if _GENERATED_ID.fullmatch(text):
        return value
    masked = mask_text(text)
    return value if masked == text else masked


def masked(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell with anything shaped like a 证件号码 masked."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = [mask_text(v) for v in out[c]]
    return out


def masked_rejects(frame: pd.DataFrame) -> pd.DataFrame:
    """A rejects table for a page or the masked download: the 证件号码 cell is masked whatever it holds, and so is
    the 值 of a 证件号码 problem (malformed numbers are personal data too); every other cell as `masked`."""
    out = frame.copy()
    if "证件号码" in out.columns:
        out["证件号码"] = [mask_id(v) for v in out["证件号码"]]
    if "值" in out.columns and "列" in out.columns:
        ids = out["列"].astype(str) == "证件号码"
        out.loc[ids, "值"] = [mask_id(v) for v in out.loc[ids, "值"]]
    return masked(out)


def scrub_paths(message: str, names: dict[Path, str] | None = None) -> str:
    """A message without server paths: the known files by the names their users gave them, any other
    absolute path by its last part."""
    for path, name in sorted((names or {}).items(), key=lambda kv: -len(str(kv[0]))):
        message = message.replace(str(path), name)
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0)).name or "", message)
