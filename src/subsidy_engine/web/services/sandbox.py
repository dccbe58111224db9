"""Reading an uploaded file where a failure cannot take the server with it: in a child process with limits.

The child is a fresh interpreter (`python -m subsidy_engine.web.services.sandbox_child JOB`) that caps its own address
space (RLIMIT_AS, SUBSIDY_SANDBOX_MEMORY_MB), its CPU time and its core dumps before it imports a reader, and is
killed by the server after SUBSIDY_SANDBOX_SECONDS. It reads its job from a file and writes its result (counts,
the refusal message) to another, both in the upload's own folder. A child that runs out of memory or time, or
dies for any reason (a reader bug, an abort in native code), costs one request a 400 with a Chinese message;
the server goes on. The child's threads are limited (one BLAS thread, two malloc arenas, the system allocator
for Arrow) so its address space stays close to the memory it really uses. At most two children run at once
(others wait their turn), so the server's worst case is two children at their limit.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import subsidy_engine
from subsidy_engine.errors import SubsidyError
from subsidy_engine.web.config import Settings
from subsidy_engine.web.masking import mask_text, scrub_paths

log = logging.getLogger(__name__)
CHILD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    "PYTHONDONTWRITEBYTECODE": "1",
}
STDERR_TAIL = 4000
CONCURRENT_CHILDREN = 2
_turns = threading.BoundedSemaphore(CONCURRENT_CHILDREN)


class UploadRefused(SubsidyError):
    """A file refused before or after reading: too large (413), not a roster type, another town's rows (400)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def limits_message(settings: Settings) -> str:
    mb = settings.sandbox_memory_bytes // (1024 * 1024)
    return (
        f"文件无法读取:超出内存/时间限制(读取和校验一个文件最多用 {mb} MB 内存、{settings.sandbox_seconds:g} 秒),"
        "或文件已损坏。请检查文件(Excel 另存为 .xlsx 或 UTF-8 CSV),名册很大时请拆分后分别上传。"
    )


def _child_env() -> dict[str, str]:
    env = {**os.environ, **CHILD_ENV}
    src = str(Path(subsidy_engine.__file__).resolve().parents[1])  # the server's own code, wherever it is
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    return env


def run_job(job: str, args: dict[str, Any], workdir: Path, settings: Settings, names: dict[Path, str]) -> Any:
    """Run `job` (sandbox_child.JOBS) on `args` in a child process; its value, or UploadRefused (400).

    `names` maps server paths to the names shown for them: a refusal message never shows a server path."""
    job_file, result_file, err_file = (workdir / n for n in (".job.json", ".result.json", ".stderr"))
    job_file.write_text(
        json.dumps(
            {
                "job": job,
                "args": args,
                "result": str(result_file),
                "memory": settings.sandbox_memory_bytes,
                "seconds": settings.sandbox_seconds,
                "names": {str(k): v for k, v in names.items()},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "subsidy_engine.web.services.sandbox_child", str(job_file)]
    try:
        with _turns, err_file.open("wb") as err:
            child = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=_child_env()
            )
            try:
                code = child.wait(timeout=settings.sandbox_seconds)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                log.warning("读取上传文件的子进程超时(%s 秒),已终止", settings.sandbox_seconds)
                raise UploadRefused(limits_message(settings)) from None
        result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.is_file() else None
        if code != 0 or result is None:
            tail = err_file.read_bytes()[-STDERR_TAIL:].decode("utf-8", "replace")
            log.warning("读取上传文件的子进程异常退出(%s):%s", code, mask_text(scrub_paths(tail, names)))
            raise UploadRefused(limits_message(settings))
    finally:
        for f in (job_file, result_file, err_file):
            f.unlink(missing_ok=True)
    if not result.get("ok"):
        message = str(result.get("error") or "")
        if result.get("memory"):
            message = limits_message(settings)
        raise UploadRefused(scrub_paths(message, names), status=int(result.get("status") or 400))
    return result.get("value")
