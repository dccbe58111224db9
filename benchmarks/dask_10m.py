"""Wall time and peak memory of a streamed `--engine dask` year run (payments to a partitioned Parquet dataset):

    python benchmarks/dask_10m.py ROSTER.parquet --workers 2 [--memory-limit 3GB] [--period 2023]

Samples the RSS of this process and of every process below it (nannies, workers) every 0.2 s with psutil and
prints the peak of the whole tree and the peak of each worker process (a nanny restarts a worker that goes over
its memory limit: a new pid). --shuffle-all sends every row through the household shuffle, as for a roster in
random order.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil

from subsidy_engine.engines.dask import engine as engine_dask
from subsidy_engine.engines.dask.engine import DaskOptions
from subsidy_engine.engines.dask.run import evaluate_stream


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.me = psutil.Process()
        self.tree_peak = 0
        self.per_process: dict[int, tuple[str, int]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for p in [self.me, *self.me.children(recursive=True)]:
                try:
                    rss = p.memory_info().rss
                    cmd = " ".join(p.cmdline()[-3:])
                except psutil.Error:
                    continue
                total += rss
                name, peak = self.per_process.get(p.pid, (cmd, 0))
                self.per_process[p.pid] = (name, max(peak, rss))
            self.tree_peak = max(self.tree_peak, total)
            time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roster", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--period", default="2023")
    ap.add_argument("--shuffle-all", action="store_true", help="every row through the shuffle (random order)")
    a = ap.parse_args()
    if a.shuffle_all:
        engine_dask.MOVED_LIMIT = -1
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    stages: list[tuple[tuple[str, int, int], float]] = []
    with tempfile.TemporaryDirectory(dir=a.roster.parent) as d:
        options = DaskOptions(workers=a.workers, memory_limit=a.memory_limit)
        result, manifest = evaluate_stream(
            a.roster,
            a.period,
            Path(d) / "out",
            options=options,
            progress=lambda *s: stages.append((s, time.perf_counter())),
        )
        seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    evaluated = [at for (stage, i, n), at in stages if stage == "evaluate"]
    print(
        f"  partitions: {len(evaluated) - 1}; first evaluated at {evaluated[1] - start:.1f} s"
        if len(evaluated) > 1
        else ""
    )
    gib = 1024**3
    v = result.validated
    print(
        f"{a.roster}: {v.rows_read} rows, {manifest['payment_lines']} lines, {a.workers} worker(s) "
        f"at {a.memory_limit}: {seconds:.1f} s, peak RSS of the process tree {sampler.tree_peak / gib:.2f} GiB"
    )
    me = psutil.Process().pid
    workers = [(pid, name, peak) for pid, (name, peak) in sampler.per_process.items() if pid != me]
    for pid, name, peak in sorted(workers, key=lambda w: -w[2]):
        if peak > 200 * 1024**2:
            print(f"  pid {pid} ({name[:60]}): peak {peak / gib:.2f} GiB")
    print(f"  driver: peak {sampler.per_process[me][1] / gib:.2f} GiB")


if __name__ == "__main__":
    main()
