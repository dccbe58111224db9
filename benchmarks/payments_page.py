"""The payment list page on the seed roster: `python benchmarks/payments_page.py`.

In process (FastAPI's TestClient, SQLite in a temporary folder): a caseworker uploads the seed roster, runs
2023 (11,698 payment lines), then opens 发放明细: the first view (checks the stored payments.csv against its
sha256, parses it and keys its search columns), then 20 views each of the first page, the last page, a
village and program filter, and a search by 证件号码. Prints the times; writes
benchmarks/results/payments_page.json. The times include the request, the database and the template.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]
from fastapi.testclient import TestClient  # noqa: E402

from subsidy_engine.web.app import create_app  # noqa: E402
from subsidy_engine.web.auth import create_user  # noqa: E402
from subsidy_engine.web.config import Settings  # noqa: E402

SEED = ROOT / "fixtures" / "xinglong-2023" / "roster.xlsx"
RESULTS = ROOT / "benchmarks" / "results" / "payments_page.json"
PASSWORD = "bench-password-1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _ms(client: TestClient, url: str) -> float:
    start = time.perf_counter()
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        app = create_app(Settings(data_dir=data, database_url=f"sqlite:///{data / 's.db'}", secret_key="b"))
        app.state.queue.inline = True
        with app.state.sessions() as db:
            create_user(db, "xinglong", PASSWORD, "caseworker", "兴隆镇")
            db.commit()
        c = TestClient(app)

        def token() -> str:
            m = CSRF.search(c.get("/login").text if not c.cookies else c.get("/uploads").text)
            assert m
            return m.group(1)

        c.post("/login", data={"csrf": token(), "name": "xinglong", "password": PASSWORD})
        with SEED.open("rb") as f:
            r = c.post("/uploads", data={"csrf": token()}, files={"roster": (SEED.name, f)})
        r = c.post(f"{r.url.path}/runs", data={"csrf": token(), "period": "2023"})
        base = f"{r.url.path}/payments"
        cold = _ms(c, base)
        pid = re.findall(r"\d{17}[\dX]", c.get(f"{r.url.path}/files/payments.csv").text)[0]
        found = c.post(base, data={"csrf": token(), "q": pid})
        views = {
            "page 1": base,
            "last page": f"{base}?page=234",
            "金花村 + 低保": f"{base}?village=金花村&program=dibao",
            "search by 证件号码": str(found.url),
        }
        result = {"lines": 11698, "first view ms": round(cold, 1)}
        for name, url in views.items():
            times = [_ms(c, url) for _ in range(20)]
            result[f"{name} median ms"] = round(statistics.median(times), 1)
            result[f"{name} max ms"] = round(max(times), 1)
    for k, v in result.items():
        print(f"{k:28} {v}")
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
