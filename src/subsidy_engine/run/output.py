"""Writing a run's folder atomically: payments, totals, rejects and manifest.json (docs/specification.md §5).

Everything is written into a temporary sibling folder and renamed into place at the end (outdir.py), so a
failed run leaves no half-written folder. Outputs are deterministic: no timestamps or run ids inside any file.
No text cell can be read as a formula: CSV cells that could are prefixed with `'`, .xlsx texts are string
cells (safecells.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa

from subsidy_engine.arrays import arrow_of
from subsidy_engine.roster.read import RawRoster
from subsidy_engine.roster.validate import REJECT_COLUMNS, Validated
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run import safecells
from subsidy_engine.run.outdir import atomic_folder, os_errors
from subsidy_engine.run.payments import PAYMENT_COLUMNS
from subsidy_engine.run.result import RunResult

__all__ = [
    "FORMATS",
    "atomic_folder",
    "build_manifest",
    "input_manifest",
    "rules_manifest",
    "sha256",
    "write_csv",
    "write_run",
    "write_xlsx",
]

FORMATS = ("csv", "xlsx", "parquet")
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """A column as pyarrow strings: zero-copy for a pandas `str` column, converted otherwise."""
    arr = arrow_of(values)
    if arr is not None:
        return arr
    if values.dtype != object:
        values = values.astype(str)
    return pa.chunked_array([pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)])


def _has_structural(column: pa.ChunkedArray) -> bool:
    """Whether any value holds a comma, quote or line break: a byte search over the value buffers (a buffer
    shared with a slice may answer yes for a value outside it; that only sends the frame the careful way)."""
    for chunk in column.chunks:
        data = chunk.buffers()[2] if chunk.null_count < len(chunk) else None
        if data is not None:
            raw = data.to_pybytes()
            if any(raw.find(ch) >= 0 for ch in (b",", b'"', b"\r", b"\n")):
                return True
    return False


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8, no BOM, `\n`, fields quoted only where needed (the bytes of pandas' minimal quoting); a text a
    spreadsheet could take for a formula gets a leading `'` (safecells.py; plain numbers never do).

    pyarrow writes the common case (no value holds a comma, quote or line break) an order of magnitude faster;
    a frame with such a value is written by pandas."""
    import pyarrow.csv as pacsv

    columns = [_arrow_text(frame[c]) for c in frame.columns]
    copied = False
    for i, col in enumerate(columns):
        mask = safecells.risky_mask(col)
        if mask is not None:
            if not copied:
                frame, copied = frame.copy(deep=False), True
            fixed = pd.Series(safecells.quoted(frame.iloc[:, i], mask), index=frame.index, dtype=object)
            frame.isetitem(i, fixed)
            columns[i] = _arrow_text(fixed)
    structural = any(_has_structural(col) for col in columns)
    if structural or any(ch in h for h in map(str, frame.columns) for ch in ',"\r\n'):
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return
    table = pa.table(columns, names=[f"c{i}" for i in range(len(columns))])
    with path.open("wb") as out:
        out.write((",".join(map(str, frame.columns)) + "\n").encode("utf-8"))
        if len(frame):
            pacsv.write_csv(
                table, out, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none")
            )


WIDTH_SAMPLE = 500  # rows looked at to size a column


def _widths(frame: pd.DataFrame) -> list[float]:
    """Column widths for Excel from the header and the first rows (CJK characters count double)."""
    from subsidy_engine.cli.texttable import width

    head = frame.iloc[:WIDTH_SAMPLE]
    return [
        float(min(max([width(str(c)), *(width(str(v)) for v in head.iloc[:, i])], default=4) + 3, 60))
        for i, c in enumerate(frame.columns)
    ]


def write_xlsx(
    frame: pd.DataFrame, path: Path, sheet: str, money_columns: tuple[str, ...] = ("金额",)
) -> None:
    """An Excel-ready .xlsx: a bold frozen header with a filter, columns sized to their text, amounts as exact
    numeric cells shown `#,##0.00` (decimal text in the cell XML, never a float), 证件号码/户编号 and every other
    text as string cells (never a number, never a formula), fixed zip timestamps."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    fixed = dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    ws = wb.create_sheet(sheet[:31])
    cols = list(frame.columns)
    for i, w in enumerate(_widths(frame), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(frame) + 1}"
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    bold = Font(bold=True)
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=str(c))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    money_idx = {i for i, c in enumerate(cols) if c in money_columns}
    # one styled cell per money column, re-used: each row is written out as soon as it is appended
    money = {i: WriteOnlyCell(ws, value=0) for i in money_idx}
    for cell in money.values():
        cell.number_format = "#,##0.00"
    # the columns holding a text openpyxl would make a formula (or that XML cannot hold): checked per cell
    special = [
        i
        for i, c in enumerate(cols)
        if i not in money_idx and safecells.xlsx_needs_cell(_arrow_text(frame.iloc[:, i]))
    ]
    money_list = sorted(money_idx)
    for row in frame.itertuples(index=False, name=None):
        values: list[object] = list(row)
        for i in money_list:
            if values[i] != "":
                money[i].value = Decimal(str(values[i]))
                values[i] = money[i]
        for i in special:
            text = values[i]
            if isinstance(text, str):
                values[i] = safecells.xlsx_text(ws, text)
        ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    _rezip_deterministic(buf.getvalue(), path)


def _rezip_deterministic(data: bytes, path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", body)
            dst.writestr(fixed, body)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_run(
    result: RunResult,
    out: str | Path,
    formats: tuple[str, ...] = ("csv",),
    *,
    overwrite: bool = False,
    publish: bool = False,
) -> dict[str, object]:
    """The run folder (payments, totals, rejects, manifest; with `publish` the masked 公示 copies in publish/
    too), appearing whole at `out` or not at all; any OSError while writing becomes an OutputError."""
    with atomic_folder(out, overwrite=overwrite) as tmp, os_errors(out):
        manifest = _write_all(result, tmp, formats)
        if publish:
            from subsidy_engine.audit.publish import write_publication

            write_publication(tmp, tmp / "publish")
        return manifest


def _write_all(result: RunResult, d: Path, formats: tuple[str, ...]) -> dict[str, object]:
    payments = result.payments[PAYMENT_COLUMNS]
    written: list[str] = []
    write_csv(payments, d / "payments.csv")
    written.append("payments.csv")
    if "xlsx" in formats:
        write_xlsx(payments, d / "payments.xlsx", "发放名单")
        written.append("payments.xlsx")
    if "parquet" in formats:
        write_parquet(payments, d / "payments.parquet")
        written.append("payments.parquet")
    write_csv(result.totals, d / "totals.csv")
    written.append("totals.csv")
    write_csv(result.validated.rejects[REJECT_COLUMNS], d / "rejects.csv")
    written.append("rejects.csv")
    manifest = build_manifest(result, {name: sha256(d / name) for name in written}, formats)
    (d / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def build_manifest(
    result: RunResult, outputs: dict[str, str], formats: tuple[str, ...] = ("csv",)
) -> dict[str, object]:
    """What `rerun` needs to redo a run: the input (path as given, sha256), the rulebook (folder, hashes),
    the engine version, the formats requested and the sha256 of each output; `cross_check` (the engines
    compared, the lines they agree on) only when `--cross-check` ran, so other manifests keep their bytes."""
    assumed = sorted(set().union(*result.assumed.values())) if result.assumed else []
    cross_check = {"cross_check": result.cross_check} if result.cross_check is not None else {}
    return {
        "period": result.period.label,
        "engine": {"name": result.engine, "version": result.version},
        **cross_check,
        "input": input_manifest(result.raw, result.validated),
        "rules": rules_manifest(result.rulebook),
        "assumed_parameters": assumed,
        "formats": [f for f in FORMATS if f in formats or f == "csv"],
        "outputs": outputs,
    }


def input_manifest(raw: RawRoster, v: Validated) -> dict[str, object]:
    """The roster as read: file name, path as given, sha256 and what validation made of its rows."""
    return {
        "file": Path(raw.source).name,
        "path": raw.source,
        "sha256": raw.sha256,
        "rows_read": v.rows_read,
        "rows_accepted": v.rows_accepted,
        "rows_rejected": v.rows_rejected,
        "households_accepted": v.households_accepted,
        "households_rejected": v.households_rejected,
        "ignored_columns": raw.ignored_columns,
    }


def rules_manifest(rulebook: Rulebook) -> dict[str, object]:
    """The rulebook as loaded: name, folder, the hash of its content and of each file."""
    return {
        "name": rulebook.name,
        "folder": str(rulebook.folder),
        "content_sha256": rulebook.content_hash,
        "files": dict(sorted(rulebook.files.items())),
    }
