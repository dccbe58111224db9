"""Load test of the web service: `python benchmarks/web_load.py [--caseworkers 20] [--web 2] [--job-workers 1]`.

Starts `subsidy serve --workers W --job-workers J` on 127.0.0.1 in a subprocess (a fresh data folder, SQLite
unless DATABASE_URL is set), creates N caseworkers of 兴隆镇, uploads the seed roster once, then at the same
moment every caseworker signs in and starts a 2023 run of it (重新计算, so each is a run of its own) while
readers fetch pages (计算记录, the upload's page, the run pages and their status) until every run has ended.
Bounded: loopback only, and it stops by itself after --deadline seconds (default 900) whatever happened.
Prints page latency p50/p95 (ms) and run throughput (runs per minute); writes benchmarks/results/web_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"
RESULTS = ROOT / "benchmarks" / "results" / "web_load.json"
PASSWORD = "bench-password-1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _subsidy(*args: str, data: Path, stdin: str | None = None) -> None:
    cmd = [sys.executable, "-m", "subsidy_engine.cli", *args, "--data", str(data)]
    subprocess.run(cmd, input=stdin, text=True, check=True, capture_output=True)


def _sign_in(client: httpx.Client, name: str) -> str:
    token = CSRF.search(client.get("/login").text)
    assert token
    r = client.post("/login", data={"csrf": token.group(1), "name": name, "password": PASSWORD})
    assert r.status_code == 200, r.status_code
    found = CSRF.search(r.text)
    assert found
    return found.group(1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--caseworkers", type=int, default=20)
    ap.add_argument("--web", type=int, default=2, help="web processes (subsidy serve --workers)")
    ap.add_argument("--job-workers", type=int, default=1)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--deadline", type=float, default=900.0)
    args = ap.parse_args()
    stop_at = time.monotonic() + args.deadline
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        names = [f"cw{i:02d}" for i in range(args.caseworkers)]
        for name in names:
            _subsidy(
                "users",
                "add",
                name,
                "--role",
                "caseworker",
                "--town",
                "兴隆镇",
                "--password-stdin",
                data=data,
                stdin=PASSWORD + "\n",
            )
        port = _free_port()
        env = {**os.environ, "SUBSIDY_SIGNIN_ADDRESS_LIMIT": "1000/60"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "subsidy_engine.cli",
                "serve",
                "--port",
                str(port),
                "--data",
                str(data),
                "--workers",
                str(args.web),
                "--job-workers",
                str(args.job_workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    httpx.get(f"{base}/login", timeout=2)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < stop_at and server.poll() is None, "the server did not start"
                    time.sleep(0.2)
            first = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
            token = _sign_in(first, names[0])
            with SEED.open("rb") as f:
                r = first.post("/uploads", data={"csrf": token}, files={"roster": ("roster.xlsx", f)})
            upload_id = str(r.url).rsplit("/", 1)[1]
            latencies: list[float] = []  # page reads while the runs are queued or running
            signins: list[float] = []
            errors: list[str] = []
            run_ids: list[str] = []
            lock = threading.Lock()
            go = threading.Barrier(args.caseworkers)

            def caseworker(name: str) -> None:
                c = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
                go.wait()
                try:
                    t = time.perf_counter()
                    csrf = _sign_in(c, name)
                    with lock:
                        signins.append(time.perf_counter() - t)
                    r = c.post(
                        f"/uploads/{upload_id}/runs", data={"csrf": csrf, "period": "2023", "force": "1"}
                    )
                    assert r.status_code == 200, r.status_code
                    with lock:
                        run_ids.append(str(r.url).rsplit("/", 1)[1])
                except Exception as exc:  # counted, not fatal: the report says how many failed
                    with lock:
                        errors.append(f"{name}: {exc!r}")

            started = time.perf_counter()
            threads = [threading.Thread(target=caseworker, args=(n,)) for n in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            done = threading.Event()

            def reader(i: int) -> None:
                c = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
                _sign_in(c, names[i % len(names)])
                k = 0
                while not done.is_set() and time.monotonic() < stop_at:
                    pages = [
                        "/runs",
                        f"/uploads/{upload_id}",
                        f"/runs/{run_ids[k % len(run_ids)]}",
                        f"/runs/{run_ids[k % len(run_ids)]}/status",
                    ]
                    url = pages[k % len(pages)]
                    t = time.perf_counter()
                    r = c.get(url)
                    elapsed = time.perf_counter() - t
                    assert r.status_code == 200, (url, r.status_code)
                    with lock:
                        latencies.append(elapsed)
                    k += 1
                    time.sleep(0.05)

            readers = [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
            for t in readers:
                t.start()
            statuses: dict[str, str] = {}
            while time.monotonic() < stop_at:
                statuses = {rid: first.get(f"/runs/{rid}/status").json()["status"] for rid in run_ids}
                if all(s in ("done", "failed", "cancelled") for s in statuses.values()):
                    break
                time.sleep(2)
            elapsed = time.perf_counter() - started
            done.set()
            for t in readers:
                t.join()
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    finished = sum(1 for s in statuses.values() if s == "done")
    ms = [x * 1000 for x in latencies]
    signin_ms = [x * 1000 for x in signins]
    result: dict[str, Any] = {
        "caseworkers": args.caseworkers,
        "web_processes": args.web,
        "job_workers": args.job_workers,
        "readers": args.readers,
        "signin_p50_ms": round(statistics.median(signin_ms), 1) if signin_ms else None,
        "signin_p95_ms": round(percentile(signin_ms, 95), 1) if signin_ms else None,
        "runs_started": len(run_ids),
        "start_errors": errors,
        "page_requests": len(ms),
        "page_p50_ms": round(statistics.median(ms), 1),
        "page_p95_ms": round(percentile(ms, 95), 1),
        "runs_done": finished,
        "runs_other": {
            s: n for s in set(statuses.values()) if (n := list(statuses.values()).count(s)) and s != "done"
        },
        "seconds": round(elapsed, 1),
        "runs_per_minute": round(finished / elapsed * 60, 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if finished == args.caseworkers else 1


if __name__ == "__main__":
    sys.exit(main())
