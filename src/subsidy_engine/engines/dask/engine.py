"""`--engine dask`: the vectorized engine over partitions of a roster split by household, on dask.distributed.

1. A pass over 证件号码 and 户编号 only: hashes of every number, then the rows of the hashes seen twice (the
   one check that needs the whole roster); households that share a duplicated number get one shuffle key.
   Also the households seen in more than one chunk.
2. Chunks of the roster are read with their rows numbered as a spreadsheet does. Households whole in their
   chunk stay there (a roster exported household by household moves almost nothing); the others, and the
   households tied by a duplicated 证件号码, are hash-shuffled on their key into extra partitions. Every
   household, and every copy of a duplicated 证件号码, is so whole in one partition.
3. Each partition goes through the project's own functions: `validate`, `VectorizedEngine.run`,
   `payments_frame` (and `totals_frame` when streaming). No rule or check is written twice.
4. Gathered: rejects sorted by row; payments sorted by `payments.SORT_KEY` (text order, as payments_frame);
   totals by `totals_frame` over all lines: the same bytes as the pandas engine. Streamed (`stream_to`):
   each partition writes its sorted part of the payment list to Parquet and returns its totals, which add up
   (dask_totals.py); the payment list never meets in one process.

A LocalCluster (processes, one thread each, a memory limit per worker, no dashboard) is started and closed
around each run unless a scheduler address is given.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from distributed import Client, LocalCluster, as_completed

from subsidy_engine.engines.dask import io as dask_io
from subsidy_engine.engines.dask.totals import Partial, partial_totals
from subsidy_engine.engines.vectorized import Progress, VectorizedEngine
from subsidy_engine.periods import Period
from subsidy_engine.roster.read import ROW, RawRoster
from subsidy_engine.roster.validate import REJECT_COLUMNS, Validated, validate
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.output import sha256, write_parquet
from subsidy_engine.run.payments import LOCAL_CODES, PAYMENT_COLUMNS, SORT_KEY, payments_frame
from subsidy_engine.run.totals import assumed_by_rule

ROWS_PER_PARTITION = 200_000


@dataclass
class DaskOptions:
    workers: int = 2
    memory_limit: str = "3GB"  # per worker, enforced by the nanny
    scheduler: str | None = None  # address of a running scheduler; None starts a LocalCluster
    partitions: int | None = None  # of the shuffled households; default one per ~200k rows moved, >= threads
    chunk_rows: int = ROWS_PER_PARTITION  # rows read per task
    verbose: bool = False  # dask's own log lines on stderr


@contextmanager
def connect(options: DaskOptions) -> Iterator[Any]:
    """A distributed Client: to options.scheduler, or to a LocalCluster closed again on every way out."""
    if options.scheduler:
        with Client(options.scheduler, set_as_default=False) as client:
            yield client
        return
    level = logging.WARNING if options.verbose else logging.ERROR
    with (
        LocalCluster(
            n_workers=options.workers,
            threads_per_worker=1,  # pandas holds the GIL: processes, not threads
            processes=True,
            memory_limit=options.memory_limit,
            host="127.0.0.1",
            dashboard_address=":0",  # a free port: None still binds :8787 (/metrics); no bokeh, no dashboard
            silence_logs=level,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


@dataclass
class Part:
    """What one partition sends back: everything small, the payment list only when not streamed."""

    rejects: pd.DataFrame
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    households_accepted: int
    households_rejected: int
    assumed: dict[tuple[str, str], set[str]]
    lines: int
    payments: pd.DataFrame | None = None
    totals: Partial | None = None  # streamed: this partition's totals (dask_totals)
    file: tuple[str, str] | None = None  # streamed: (part file name, sha256)


def evaluate_partition(
    frame: pd.DataFrame,
    rulebook: Rulebook,
    period: Period,
    headers: dict[str, str],
    stream_to: str | None,
    index: int,
) -> Part:
    raw = frame.drop(columns=[dask_io.KEY]).sort_values(ROW, kind="stable").reset_index(drop=True)
    v = validate(RawRoster(frame=raw, headers=headers))
    lines = VectorizedEngine(rulebook).run(v.persons, period)
    payments = payments_frame(lines, v.persons, rulebook)
    assumed = assumed_by_rule(rulebook, lines)
    part = Part(
        v.rejects,
        v.rows_read,
        v.rows_accepted,
        v.rows_rejected,
        v.households_accepted,
        v.households_rejected,
        assumed,
        len(lines),
    )
    if stream_to is None:
        part.payments = payments
        return part

    part.totals = partial_totals(payments, rulebook)
    name = f"part-{index:05d}.parquet"
    write_parquet(payments[PAYMENT_COLUMNS], Path(stream_to) / name)
    part.file = (name, sha256(Path(stream_to) / name))
    return part


@dataclass
class DaskRun:
    source: dask_io.Source
    parts: list[Part]
    partitions: int
    assumed: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def validated(self) -> Validated:
        rejects = [p.rejects for p in self.parts if len(p.rejects)]
        frame = (
            pd.concat(rejects, ignore_index=True).sort_values("行号", kind="stable").reset_index(drop=True)
            if rejects
            else pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        )
        return Counted(
            persons=pd.DataFrame(),
            rejects=frame,
            rows_read=sum(p.rows_read for p in self.parts),
            rows_rejected=sum(p.rows_rejected for p in self.parts),
            households_accepted=sum(p.households_accepted for p in self.parts),
            households_rejected=sum(p.households_rejected for p in self.parts),
            accepted=sum(p.rows_accepted for p in self.parts),
        )

    def raw(self) -> RawRoster:
        s = self.source
        return RawRoster(pd.DataFrame(), s.headers, source=s.path, sha256=s.sha256, ignored_columns=s.ignored)


@dataclass
class Counted(Validated):
    """A Validated whose accepted persons stayed on the workers: only their number came back."""

    accepted: int = 0

    @property
    def rows_accepted(self) -> int:
        return self.accepted


def run(
    path: str | Path,
    rulebook: Rulebook,
    period: Period,
    options: DaskOptions,
    *,
    stream_to: str | None = None,
    progress: Progress | None = None,
) -> DaskRun:
    opened = dask_io.open_source(path, options.chunk_rows)
    chunks = opened.chunks
    source = replace(opened, chunks=[])  # what every task gets: no in-memory chunk but its own
    with connect(options) as client:
        if progress:
            progress("read", 0, 1)
        scans = client.gather(client.map(dask_io.scan, [source] * len(chunks), chunks))
        keys = _tied_households(client, source, chunks, scans)
        moved, moved_rows = _split_households(scans)
        task = dask.delayed(evaluate_partition, pure=True)
        jobs = []
        meta = dask_io.load_chunk(chunks[0], source, keys, empty=True)
        if moved is not None:  # households whole in a chunk are evaluated where they were read
            load = dask.delayed(dask_io.load_chunk, pure=True)
            select = dask.delayed(dask_io.select, pure=True)
            marked = [load(c, source, keys, moved, "mark") for c in chunks]  # each chunk read once
            jobs += [
                task(select(m, "local"), rulebook, period, source.headers, stream_to, i)
                for i, m in enumerate(marked)
            ]
            frame = dd.from_delayed([select(m, "moved") for m in marked], meta=meta, verify_meta=False)
        else:
            frame = dd.from_map(
                dask_io.load_chunk, chunks, args=[source, keys], meta=meta, enforce_metadata=False
            )
        if moved is None or len(moved) or keys:
            n = options.partitions or max(
                sum(client.nthreads().values()), math.ceil(moved_rows / ROWS_PER_PARTITION)
            )
            method = "p2p" if source.arrow_safe else "tasks"  # p2p moves Arrow tables: text cells only
            with dask.config.set({"dataframe.shuffle.method": method}):
                shuffled = frame.shuffle(on=dask_io.KEY, npartitions=n).to_delayed()
            first = len(jobs)
            jobs += [
                task(p, rulebook, period, source.headers, stream_to, first + i)
                for i, p in enumerate(shuffled)
            ]
        futures = client.compute(jobs)
        index = {f.key: i for i, f in enumerate(futures)}
        parts: list[Part | None] = [None] * len(futures)
        if progress:
            progress("evaluate", 0, len(futures))
        for done, fut in enumerate(as_completed(futures, loop=client.loop), start=1):
            parts[index[fut.key]] = fut.result()
            fut.release()
            if progress:
                progress("evaluate", done, len(futures))
    result = DaskRun(opened, [p for p in parts if p is not None], len(futures))
    for p in result.parts:
        for k, v in p.assumed.items():
            result.assumed.setdefault(k, set()).update(v)
    return result


MOVED_LIMIT = 100_000  # more households than this across chunks: shuffle every row (no local pass)


def _split_households(scans: list[dask_io.Scan]) -> tuple[np.ndarray | None, int]:
    """Hashes of the households seen in more than one chunk (None: too many, move them all), rows to move."""
    values, seen = np.unique(np.concatenate([s.households for s in scans]), return_counts=True)
    moved = values[seen > 1]
    total = sum(int(s.counts.sum()) for s in scans)
    if len(moved) > MOVED_LIMIT:
        return None, total
    return moved, sum(int(s.counts[np.isin(s.households, moved)].sum()) for s in scans)


def _tied_households(
    client: Any, source: dask_io.Source, chunks: list[dask_io.Chunk], scans: list[dask_io.Scan]
) -> dict[str, str]:
    """Households sharing a duplicated 证件号码 → one shuffle key (the rows of the hashes seen twice)."""
    values, counts = np.unique(np.concatenate([s.ids for s in scans]), return_counts=True)
    twice = values[counts > 1]
    if len(twice) == 0:
        return {}
    found = client.gather(client.map(dask_io.id_candidates, [source] * len(chunks), chunks, hashes=twice))
    return dask_io.tie_households(pd.concat(found, ignore_index=True))


def gathered_payments(parts: list[Part]) -> pd.DataFrame:
    """All partitions' payment lines in the order of payments_frame: SORT_KEY compared as text."""
    frames = [p.payments for p in parts if p.payments is not None]
    # `_person` / `_household` codes are each partition's own: dropped, so totals counts by the texts
    payments = pd.concat(frames, ignore_index=True).drop(columns=list(LOCAL_CODES), errors="ignore")
    if len(payments) == 0:
        return payments
    table = pa.table({k: pa.array(payments[k].to_numpy(dtype=object), pa.string()) for k in SORT_KEY})
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in SORT_KEY]).to_numpy()
    return payments.take(order).reset_index(drop=True)
