"""Peak memory (max RSS) of one end-to-end 2023 year run: `python benchmarks/peak_memory.py ROSTER`."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from subsidy_engine.output import write_run
from subsidy_engine.pipeline import evaluate_file


def main() -> None:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        result = evaluate_file(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "2023")
        write_run(result, Path(d) / "out")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{sys.argv[1]}: {result.validated.rows_read} rows, {len(result.payments)} lines, "
        f"{seconds:.1f} s, peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
