"""A command loads only what it uses: a CSV `subsidy evaluate` imports no dask, no durable-rules, no web stack
and no spreadsheet reader or writer (the optional dependencies are imported where they are used)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROSTER = Path(__file__).parent.parent / "fixtures" / "small" / "tuopin-vocational-migrant.csv"
NOT_FOR_A_CSV_RUN = [
    "dask",
    "distributed",
    "durable",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "jinja2",
    "uvicorn",
    "openpyxl",
    "xlsxwriter",
    "subsidy_engine.web",
    "subsidy_engine.roster.xlsx_read",
    "subsidy_engine.engines.rete",
    "subsidy_engine.engines.dask",
]

PROBE = """
import json, sys
from subsidy_engine.cli.main import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(*args: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_a_csv_evaluate_loads_no_optional_stack(tmp_path: Path) -> None:
    loaded = _modules_after("evaluate", str(ROSTER), "--period", "2023", "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "payments.csv").exists()
    assert "pandas" in loaded  # the probe sees what the run imported
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in NOT_FOR_A_CSV_RUN)]
    assert heavy == []
