"""The child process of sandbox.py: set the limits, then read the job, run it and write the result.

Nothing heavy is imported before the limits are in place. A refusal the engine explains (SubsidyError) and
running out of memory are results; anything else is left to crash the child (its traceback goes to the
server's log, masked), which the server turns into the same 400 as a child killed for its limits.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any


def _limit(memory: int, seconds: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a dump would hold the roster
    cpu = int(seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _write(path: Path, result: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def main(job_file: str) -> int:
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    _limit(int(job["memory"]), float(job["seconds"]))
    from subsidy_engine.errors import SubsidyError  # late: after the limits
    from subsidy_engine.web.masking import scrub_paths  # late: after the limits
    from subsidy_engine.web.services.sandbox_jobs import JOBS, quiet_threads  # late: after the limits

    quiet_threads()
    names = {Path(k): v for k, v in job.get("names", {}).items()}
    try:
        result: dict[str, Any] = {"ok": True, "value": JOBS[job["job"]](**job["args"])}
    except SubsidyError as exc:
        result = {"ok": False, "error": scrub_paths(str(exc), names), "status": getattr(exc, "status", 400)}
    except MemoryError:
        result = {"ok": False, "memory": True}
    _write(Path(job["result"]), result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
