"""Run inside the wheel's virtual environment: a web run of the seed roster through the installed app.

argv: DATA_DIR SEED OUT_PAYMENTS. Signs in as a caseworker, uploads the roster, runs 2023 and saves the payment
list it downloads (the run is queued, then computed by the worker's code); prints where the package was imported from.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fastapi.testclient import TestClient

import subsidy_engine
from subsidy_engine.web.app import create_app
from subsidy_engine.web.auth import create_user
from subsidy_engine.web.config import Settings
from subsidy_engine.web.worker import drain

data, seed, out = (Path(a).resolve() for a in sys.argv[1:4])
data.mkdir(parents=True, exist_ok=True)
app = create_app(
    Settings(data_dir=data, database_url=f"sqlite:///{data / 'subsidy.db'}", secret_key="wheel-test")
)
with app.state.sessions() as db:
    create_user(db, "caseworker", "correct horse 9", "caseworker", "兴隆镇")
    db.commit()
client = TestClient(app, follow_redirects=True)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def token(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


r = client.get("/login")
r = client.post("/login", data={"csrf": token(r.text), "name": "caseworker", "password": "correct horse 9"})
assert r.status_code == 200, r.status_code
with seed.open("rb") as f:
    r = client.post("/uploads", data={"csrf": token(r.text)}, files={"roster": (seed.name, f)})
assert r.status_code == 200, r.text[:300]
upload_id = str(r.url).rstrip("/").rsplit("/", 1)[1]
r = client.post(f"/uploads/{upload_id}/runs", data={"csrf": token(r.text), "period": "2023"})
assert r.status_code == 200, r.text[:300]
run_id = str(r.url).rstrip("/").rsplit("/", 1)[1]
assert "/runs/" in str(r.url), (str(r.url), r.text[:2000])
assert drain(app.state.sessions, app.state.settings) == 1  # the queued run, as `subsidy worker --once` would
page = client.get(f"/runs/{run_id}").text
r = client.get(f"/runs/{run_id}/files/payments.csv")
assert r.status_code == 200, (r.status_code, re.sub(r"<[^>]+>", " ", page)[-1500:])
out.write_bytes(r.content)
app.state.engine.dispose()
print(subsidy_engine.__file__)
