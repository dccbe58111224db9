"""`--engine dask` gives the bytes of the pandas engine: the seed roster, and a generated roster with bad rows,
a blank line, a 户编号 written with a space and a 证件号码 shared by two households far apart (so that, without
the whole-roster duplicate check, they would be validated in different partitions). One LocalCluster serves
the module (tests pass --scheduler ADDRESS); one test starts and closes a cluster of its own."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import run
from subsidy_engine.engines.dask import engine as engine_dask
from subsidy_engine.engines.dask import io as dask_io
from subsidy_engine.engines.dask.engine import DaskOptions
from subsidy_engine.engines.dask.run import evaluate_file, evaluate_stream
from subsidy_engine.roster.cells import as_text, is_blank
from subsidy_engine.roster.read import ROW, read_roster
from subsidy_engine.run.output import write_run
from subsidy_engine.run.payments import PAYMENT_COLUMNS, SORT_KEY

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate_roster import generate  # noqa: E402

SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"
OUTPUTS = ("payments.csv", "totals.csv", "rejects.csv")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # a free port: None still binds :8787 for /metrics
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def seed_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed roster's cells as text in a Parquet file (blank cells null), headers as in the workbook."""
    raw = read_roster(SEED)
    columns = {
        raw.headers[a]: [None if is_blank(v) else as_text(v) for v in raw.frame[a]]
        for a in raw.frame.columns
        if a != ROW
    }
    path = tmp_path_factory.mktemp("seed") / "roster.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=5000)
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = generate(20_000, seed=1, bad_fraction=0.02)
    f.loc[19_990, "证件号码"] = f.loc[5, "证件号码"].lower() + " "  # the same person in two households
    f.loc[10_000, :] = ""  # a blank line: not a row, but counted in the row numbers
    f.loc[101, "户编号"] = " " + f.loc[101, "户编号"]  # the same household once trimmed
    path = tmp_path_factory.mktemp("generated") / "roster.parquet"
    pq.write_table(pa.Table.from_pandas(f, preserve_index=False), path, row_group_size=2500)
    f.to_csv(path.with_suffix(".csv"), index=False, lineterminator="\n")
    return path


def evaluate(roster: Path, out: Path, *extra: str, period: str = "2023") -> Path:
    code, stdout, stderr = run("evaluate", str(roster), "--period", period, "--out", str(out), *extra)
    assert code == 0, stdout + stderr
    return out


def on_dask(
    roster: Path, out: Path, scheduler: str, chunk_rows: int, partitions: int = 3, period: str = "2023"
) -> Path:
    """The dask engine with small chunks, so that households and duplicates straddle them."""
    options = DaskOptions(scheduler=scheduler, partitions=partitions, chunk_rows=chunk_rows)
    write_run(evaluate_file(roster, period, options=options), out, ("csv", "parquet"))
    return out


def assert_same_run(pandas_dir: Path, dask_dir: Path) -> None:
    for name in OUTPUTS:
        assert (dask_dir / name).read_bytes() == (pandas_dir / name).read_bytes(), name
    want = json.loads((pandas_dir / "manifest.json").read_text(encoding="utf-8"))
    got = json.loads((dask_dir / "manifest.json").read_text(encoding="utf-8"))
    assert want.pop("engine")["name"] == "pandas"
    assert got.pop("engine")["name"] == "dask"
    assert got == want


def test_seed_roster_same_bytes(scheduler: str, seed_parquet: Path, tmp_path: Path) -> None:
    pandas_dir = evaluate(seed_parquet, tmp_path / "pandas", "--format", "csv,parquet")
    assert_same_run(pandas_dir, on_dask(seed_parquet, tmp_path / "dask", scheduler, chunk_rows=4000))
    cli = evaluate(
        seed_parquet,
        tmp_path / "cli",
        "--format",
        "csv,parquet",
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert_same_run(pandas_dir, cli)
    assert (cli / "payments.parquet").read_bytes() == (pandas_dir / "payments.parquet").read_bytes()
    xlsx_pandas = evaluate(SEED, tmp_path / "xlsx-pandas", "--format", "csv,parquet")
    assert_same_run(xlsx_pandas, on_dask(SEED, tmp_path / "xlsx-dask", scheduler, chunk_rows=5000))


def test_generated_roster_same_bytes(scheduler: str, generated: Path, tmp_path: Path) -> None:
    pandas_dir = evaluate(generated, tmp_path / "pandas", "--format", "csv,parquet")
    rejects = pd.read_csv(pandas_dir / "rejects.csv", dtype=str)
    assert {"ID_DUPLICATE", "ID_CHECKSUM", "HOUSEHOLD_REJECTED", "BAD_DATE"} <= set(rejects["原因代码"])
    assert "19992" in set(rejects.loc[rejects["原因代码"] == "ID_DUPLICATE", "行号"])
    # row groups of 2500 read in slices of 2000: households cut at the edges move, the rest stays
    assert_same_run(pandas_dir, on_dask(generated, tmp_path / "dask", scheduler, chunk_rows=2000))
    csv = generated.with_suffix(".csv")
    cli = evaluate(
        csv, tmp_path / "csv-dask", "--engine", "dask", "--scheduler", scheduler, "--partitions", "2"
    )
    assert_same_run(evaluate(csv, tmp_path / "csv-pandas"), cli)


@pytest.mark.parametrize("period", ["2022", "2024", "2026-01"])
def test_other_years_same_bytes(scheduler: str, generated: Path, tmp_path: Path, period: str) -> None:
    """The dask workers read the same rulebook history: 2022, 2024 and January 2026 agree with pandas."""
    pandas_dir = evaluate(generated, tmp_path / "pandas", "--format", "csv,parquet", period=period)
    assert pd.read_csv(pandas_dir / "payments.csv", dtype=str)["发放月份"].str.startswith(period[:4]).all()
    assert_same_run(
        pandas_dir, on_dask(generated, tmp_path / "dask", scheduler, chunk_rows=5000, period=period)
    )


@pytest.mark.parametrize("name", ["xlsx_error_cell_na", "csv_row_missing_trailing_cells"])
def test_read_problems_travel_with_their_rows(scheduler: str, tmp_path: Path, name: str) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "hostile"))
    from corpus import case

    c = case(name)
    roster = tmp_path / c.filename
    roster.write_bytes(c.data)
    pandas_dir = evaluate(roster, tmp_path / "pandas", "--format", "csv,parquet")
    assert set(c.expected.reasons) <= set(pd.read_csv(pandas_dir / "rejects.csv", dtype=str)["原因代码"])
    assert_same_run(pandas_dir, on_dask(roster, tmp_path / "dask", scheduler, chunk_rows=2, partitions=2))


def test_households_in_random_order_are_shuffled(
    scheduler: str, generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shuffled = tmp_path / "shuffled.parquet"
    table = pq.read_table(generated)
    pq.write_table(
        table.take(np.random.default_rng(0).permutation(table.num_rows)), shuffled, row_group_size=4000
    )
    pandas_dir = evaluate(shuffled, tmp_path / "pandas", "--format", "csv,parquet")
    assert_same_run(
        pandas_dir, on_dask(shuffled, tmp_path / "dask", scheduler, chunk_rows=4000, partitions=4)
    )
    monkeypatch.setattr(engine_dask, "MOVED_LIMIT", 0)  # every row through the shuffle
    assert_same_run(pandas_dir, on_dask(shuffled, tmp_path / "all", scheduler, chunk_rows=4000, partitions=4))


def test_without_the_whole_roster_check_duplicates_are_missed(
    scheduler: str, generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the tests above: households are not tied, so copies of a 证件号码 stay apart."""
    monkeypatch.setattr(dask_io, "tie_households", lambda candidates: {})
    pandas_dir = evaluate(generated, tmp_path / "pandas")
    dask_dir = on_dask(generated, tmp_path / "dask", scheduler, chunk_rows=2000)
    assert (dask_dir / "rejects.csv").read_bytes() != (pandas_dir / "rejects.csv").read_bytes()


def test_stream_writes_the_same_lines_as_a_parquet_dataset(
    scheduler: str, generated: Path, tmp_path: Path
) -> None:
    pandas_dir = evaluate(generated, tmp_path / "pandas")
    options = DaskOptions(scheduler=scheduler, partitions=3, chunk_rows=2000)
    _, manifest = evaluate_stream(generated, "2023", tmp_path / "stream", options=options)
    out = tmp_path / "stream"
    for name in ("totals.csv", "rejects.csv"):
        assert (out / name).read_bytes() == (pandas_dir / name).read_bytes(), name
    parts = sorted((out / "payments").glob("part-*.parquet"))
    assert len(parts) == 16 + 3  # 8 row groups of 2500 read as 2000 + 500, then 3 shuffled partitions
    frames = [pd.read_parquet(p) for p in parts]
    for f in frames:
        ordered = f.sort_values(SORT_KEY, kind="stable", ignore_index=True)
        assert f.reset_index(drop=True).equals(ordered)
    got = pd.concat(frames, ignore_index=True)
    want = pd.read_csv(pandas_dir / "payments.csv", dtype=str, keep_default_na=False)
    assert list(got.columns) == PAYMENT_COLUMNS
    assert sorted(map(tuple, got.to_numpy().tolist())) == sorted(map(tuple, want.to_numpy().tolist()))
    assert manifest == json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["formats"] == ["parquet-dataset"]
    assert manifest["payment_lines"] == len(want)
    assert sorted(manifest["outputs"]) == sorted(
        [f"payments/{p.name}" for p in parts] + ["rejects.csv", "totals.csv"]
    )
    cli = evaluate(generated, tmp_path / "cli", "--engine", "dask", "--scheduler", scheduler, "--stream")
    assert (cli / "totals.csv").read_bytes() == (pandas_dir / "totals.csv").read_bytes()


def test_own_local_cluster_is_closed_and_rerun_agrees(generated: Path, tmp_path: Path) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    pandas_dir = evaluate(generated, tmp_path / "pandas")
    dask_dir = evaluate(
        generated, tmp_path / "dask", "--engine", "dask", "--workers", "1", "--memory-limit", "2GB"
    )
    assert_same_run(pandas_dir, dask_dir)
    code, stdout, stderr = run(
        "rerun", str(dask_dir / "manifest.json")
    )  # on dask again, a cluster of its own
    assert code == 0, stdout + stderr
    left = [
        " ".join(p.cmdline())
        for p in psutil.Process().children(recursive=True)
        if p.pid not in before
        and "resource_tracker" not in " ".join(p.cmdline())  # one per Python, by design
    ]
    assert not left, f"processes left behind: {left}"


def test_strict_fails_and_writes_nothing(scheduler: str, generated: Path, tmp_path: Path) -> None:
    code, _, stderr = run(
        "evaluate",
        str(generated),
        "--period",
        "2023",
        "--out",
        str(tmp_path / "o"),
        "--strict",
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
    )
    assert code == 1 and "--strict" in stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("--stream",),
        ("--workers", "2"),
        ("--engine", "dask", "--cross-check"),
        ("--engine", "dask", "--stream", "--format", "csv,xlsx"),
        ("--engine", "dask", "--partitions", "0"),
    ],
)
def test_usage_errors(args: tuple[str, ...], tmp_path: Path) -> None:
    code, _, _ = run("evaluate", str(SEED), "--period", "2023", "--out", str(tmp_path / "o"), *args)
    assert code == 2
    assert not (tmp_path / "o").exists()
