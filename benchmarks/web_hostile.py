"""The web server's peak memory and time while hostile uploads are refused: `python benchmarks/web_hostile.py`.

Starts `subsidy serve` on 127.0.0.1 in a subprocess (fresh data folder, default limits), signs in with httpx and
uploads every file of the hostile-input corpus (tests/hostile/corpus.py), the seed roster, and the seed roster
with its 证件号码 column mangled by Excel (`5.00119E+17`), then a 300 MB chunked upload without a session and
one with a session. While each request runs, /proc is sampled every 10 ms for
the server and every process below it (the sandbox child): VmHWM (peak resident memory), the server's peak
reset before each request (clear_refs 5). Also times sign-ins with a known and an unknown name.
Prints a table; writes benchmarks/results/web_hostile.json.
"""

from __future__ import annotations

import html
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "hostile")]
from corpus import BUILDERS, case  # noqa: E402

SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"
RESULTS = ROOT / "benchmarks" / "results" / "web_hostile.json"
PASSWORD = "bench-password-1"
MB = 1 << 20


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "PPid"):
                out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return out


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            ppid = _status(int(d.name)).get("PPid")
            if ppid is not None:
                parents[int(d.name)] = ppid
    found, frontier = [], [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        frontier += kids
    return found


class Sampler:
    """The peak VmHWM (KiB) of the server and of any process below it while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> Sampler:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # reset the server's peak RSS
        self.children = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.start = time.perf_counter()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            for c in _descendants(self.pid):
                self.children = max(self.children, _status(c).get("VmHWM", 0))
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.stop.set()
        self.thread.join()
        self.server = _status(self.pid).get("VmHWM", 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mangled_seed(path: Path) -> Path:
    import pandas as pd

    frame = pd.read_excel(SEED, dtype=str, engine="calamine").fillna("")
    frame["证件号码"] = "5.00119E+17"
    frame.to_csv(path, index=False)
    return path


def _chunked(megabytes: int, pulled: list[int]) -> Iterator[bytes]:
    yield (
        b'--b0undary\r\nContent-Disposition: form-data; name="roster"; filename="big.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
    )
    for _ in range(megabytes):
        pulled[0] += MB
        yield b"x" * MB
    yield b"\r\n--b0undary--\r\n"


def _csrf(client: httpx.Client, url: str) -> str:
    import re

    m = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert m, url
    return m.group(1)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="web-hostile-"))
    data, spool = work / "data", work / "tmp"
    spool.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "SUBSIDY_DATA": str(data),
        "TMPDIR": str(spool),  # where the multipart parser would spool an upload
        "SUBSIDY_SIGNIN_LIMIT": "1000/60",  # the timing loop signs in many times
        "SUBSIDY_SIGNIN_ADDRESS_LIMIT": "1000/60",
    }
    env.pop("DATABASE_URL", None)
    subsidy = [sys.executable, "-m", "subsidy_engine.cli"]
    subprocess.run(
        [
            *subsidy,
            "users",
            "add",
            "xinglong",
            "--role",
            "caseworker",
            "--town",
            "兴隆镇",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [*subsidy, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    try:
        client = httpx.Client(base_url=url, timeout=600, follow_redirects=True)
        for _ in range(600):
            try:
                client.get("/login")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        r = client.post(
            "/login", data={"csrf": _csrf(client, "/login"), "name": "xinglong", "password": PASSWORD}
        )
        assert r.status_code == 200, r.status_code
        files: list[tuple[str, Path]] = []
        for name in BUILDERS:
            c = case(name)
            (work / name).mkdir()
            path = work / name / c.filename
            path.write_bytes(c.data)
            files.append((name, path))
        files.append(("seed roster (26,001 rows)", SEED))
        files.append(("seed roster, IDs mangled by Excel", _mangled_seed(work / "mangled-seed.csv")))
        for name, path in files:
            with Sampler(server.pid) as s, path.open("rb") as f:
                token = _csrf(client, "/uploads")
                r = client.post("/uploads", data={"csrf": token}, files={"roster": (path.name, f)})
            alive = client.get("/").status_code == 200
            rows.append(_row(name, path.stat().st_size, r, s, alive))
        for label, signed_in in (("300 MB chunked, no session", False), ("300 MB chunked, signed in", True)):
            pulled = [0]
            c = client if signed_in else httpx.Client(base_url=url, timeout=600)
            headers = {"content-type": "multipart/form-data; boundary=b0undary"}
            with Sampler(server.pid) as s:
                try:
                    resp: Any = c.post("/uploads", content=_chunked(300, pulled), headers=headers)
                except httpx.TransportError as exc:  # the server answered and closed mid-body
                    resp = exc
            alive = client.get("/").status_code == 200
            row = _row(label, 300 * MB, resp, s, alive)
            row["client_sent_mb"] = round(pulled[0] / MB)
            row["spooled_files"] = sum(1 for _ in spool.rglob("*"))
            rows.append(row)
        rows.append(_signin_timing(url))
    finally:
        server.terminate()
        server.wait(30)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _row(name: str, size: int, r: Any, s: Sampler, alive: bool) -> dict[str, Any]:
    import re

    if isinstance(r, Exception):
        status, message = type(r).__name__, ""
    else:
        status = r.status_code
        m = re.search(r'<p class="error" role="alert">(.*?)</p>', r.text, re.S)
        read = re.search(r'id="rows-read">(\d+)<', r.text)
        rejected = re.search(r'id="rows-rejected">(\d+)<', r.text)
        message = (
            html.unescape(m.group(1))[:80]
            if m
            else (f"report: {read.group(1)} read, {rejected.group(1)} rejected" if read and rejected else "")
        )
    return {
        "file": name,
        "size_kb": round(size / 1024),
        "status": status,
        "seconds": round(s.seconds, 1),
        "server_peak_mib": round(s.server / 1024),
        "child_peak_mib": round(s.children / 1024),
        "server_alive": alive,
        "message": message,
    }


def _signin_timing(url: str, rounds: int = 10) -> dict[str, Any]:
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    client = httpx.Client(base_url=url, timeout=60)
    for _ in range(rounds):
        for kind, name in (("known", "xinglong"), ("unknown", "nobody-at-all")):
            token = _csrf(client, "/login")
            start = time.perf_counter()
            client.post("/login", data={"csrf": token, "name": name, "password": "wrong password"})
            times[kind].append(time.perf_counter() - start)
    return {
        "file": "sign-in, wrong password",
        "known_name_ms": round(statistics.median(times["known"]) * 1000),
        "unknown_name_ms": round(statistics.median(times["unknown"]) * 1000),
    }


if __name__ == "__main__":
    main()
