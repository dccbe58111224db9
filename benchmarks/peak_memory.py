"""Peak memory (max RSS) of one end-to-end 2023 year run: `python benchmarks/peak_memory.py ROSTER`.

Each run is a fresh process, so ru_maxrss is this run's own peak. The figure is also recorded in
benchmarks/results/peak_memory.json (keyed by the roster's file name) for `benchmarks/report.py`."""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from subsidy_engine.run.output import write_run
from subsidy_engine.run.pipeline import evaluate_file

RESULTS = Path(__file__).parent / "results" / "peak_memory.json"


def main() -> None:
    roster = Path(sys.argv[1])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        result = evaluate_file(roster, sys.argv[2] if len(sys.argv) > 2 else "2023")
        write_run(result, Path(d) / "out")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{roster}: {result.validated.rows_read} rows, {len(result.payments)} lines, "
        f"{seconds:.1f} s, peak RSS {peak:.0f} MiB"
    )
    recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    recorded[roster.name] = {"rows": result.validated.rows_read, "seconds": seconds, "peak_mib": peak}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
