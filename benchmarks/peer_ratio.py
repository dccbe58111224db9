"""Side-by-side ratios on the realistic 1M roster, fresh processes, interleaved (A B A B …), median of 3:
the engine (`subsidy evaluate`, validation included) against the hand-written DuckDB peer on the same roster's
clean rows, from CSV and from Parquet; and the bad-row overhead (the realistic roster against its clean twin).

    python benchmarks/peer_ratio.py [1M|100k]      → benchmarks/results/peer.json (report.py shows it)

The peer lives outside the repository (../shared/peers/ next to the checkout, with its clean.py) and runs under
the Python that has duckdb (SUBSIDY_DUCK_PYTHON, default /tmp/duck/bin/python: `make bench-peer` makes it); when
either is missing the peer pairs are skipped and said so.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from conftest import DATA, realistic_file  # noqa: E402

PEERS = HERE.parent.parent / "shared" / "peers"
DUCK = Path(os.environ.get("SUBSIDY_DUCK_PYTHON", "/tmp/duck/bin/python"))
RESULTS = HERE / "results" / "peer.json"
ROUNDS = 3


def _run(cmd: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: some rows rejected
        raise SystemExit(f"{cmd[:4]} failed: {err[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024}


def _engine(roster: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "subsidy_engine.cli.main", "evaluate", str(roster), "--period", "2023",
            "--out", str(out), "--overwrite"]  # fmt: skip


def _pairs(a: list[str], b: list[str]) -> dict[str, object]:
    runs = [(_run(a), _run(b)) for _ in range(ROUNDS)]
    med = {k: statistics.median(r[0][k] for r in runs) for k in ("wall", "cpu", "peak_mib")}
    base = {k: statistics.median(r[1][k] for r in runs) for k in ("wall", "cpu", "peak_mib")}
    ratio = statistics.median(r[0]["wall"] / r[1]["wall"] for r in runs)
    cpu_ratio = statistics.median(r[0]["cpu"] / r[1]["cpu"] for r in runs)
    return {"a": med, "b": base, "ratio_wall": ratio, "ratio_cpu": cpu_ratio, "rounds": ROUNDS}


def _lines(path: Path) -> list[str]:
    return sorted(path.read_text(encoding="utf-8-sig").splitlines()[1:])


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "1M"
    csv, parquet = realistic_file(label, "csv"), realistic_file(label, "parquet")
    twin = realistic_file(label, "csv", clean=True)
    found: dict[str, object] = {"roster": csv.name, "load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d) / "a", Path(d) / "b"
        found["bad_row_overhead"] = _pairs(_engine(csv, a), _engine(twin, b))
        if PEERS.is_dir() and DUCK.exists():
            _run(_engine(csv, a))
            clean = DATA / f"roster-{label}-realistic-clean.csv"
            subprocess.run([sys.executable, str(PEERS / "clean.py"), str(csv), str(a / "rejects.csv"), str(clean)],
                           check=True, capture_output=True)  # fmt: skip
            peer = [str(DUCK), str(PEERS / "peer_duckdb.py"), str(clean), "--period", "2023", "--out", str(b)]
            found["duckdb_csv"] = _pairs(_engine(csv, a), peer)
            found["same_lines"] = _lines(a / "payments.csv") == _lines(b / "payments.csv")
            found["duckdb_parquet"] = _pairs(_engine(parquet, a), peer)
        else:
            found["duckdb"] = f"skipped: no {PEERS} or no {DUCK}"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    print(json.dumps(found, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
