"""The README's Performance table from `make bench` results: `python benchmarks/report.py [latest.json]`.

Prints Markdown: the machine, each stage per roster size (seconds, fastest round), the floor (reading the file
plus writing payments.csv) and each 1M stage's share of the end-to-end time, the engines side by side, and the
peak memory recorded by peak_memory.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SIZES = ["10k", "100k", "1M"]
STAGES = [
    ("read CSV", "test_read[{s}-csv]"),
    ("read Parquet", "test_read[{s}-parquet]"),
    ("validate", "test_validate[{s}]"),
    ("evaluate (pandas engine)", "test_evaluate[{s}]"),
    ("payments + totals", "test_payments_and_totals[{s}]"),
    ("write payments.csv only", "test_write_payments[{s}]"),
    ("write all outputs", "test_write[{s}]"),
    ("**end to end from CSV**", "test_end_to_end[{s}-csv]"),
    ("**end to end from Parquet**", "test_end_to_end[{s}-parquet]"),
]
ENGINES = [
    ("pandas, end to end from Parquet", "test_end_to_end[{s}-parquet]"),
    ("dask, 1 worker, end to end from Parquet", "test_dask_end_to_end[1worker-{s}]"),
    ("dask, 2 workers, end to end from Parquet", "test_dask_end_to_end[2workers-{s}]"),
    ("rete (durable-rules), 1 process, evaluate only", "test_rete_persons_per_second[1-{s}]"),
    ("rete (durable-rules), 2 processes, evaluate only", "test_rete_persons_per_second[2-{s}]"),
    ("`--cross-check` (pandas + rete + compare)", "test_cross_check_total_cost[{s}]"),
]


STARTUP = [
    ("`subsidy --help`", "test_startup_help"),
    ("`subsidy evaluate` of a 10-row roster", "test_startup_evaluate_10_rows"),
]


def _peer_lines() -> list[str]:
    """The side-by-side ratios of peer_ratio.py: DuckDB peer and bad-row overhead, medians of interleaved runs."""
    path = RESULTS / "peer.json"
    if not path.exists():
        return []
    peer = json.loads(path.read_text())
    load = ", ".join(f"{x:.1f}" for x in peer.get("load", []))
    out = [
        "",
        f"Side by side on {peer['roster']} (fresh processes, interleaved, median of 3; load average {load}):",
        "",
        "| A vs B | A seconds | B seconds | A ÷ B (wall) | A ÷ B (CPU) | A peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "duckdb_csv": "engine from CSV, validation included vs DuckDB peer on the clean rows",
        "duckdb_parquet": "engine from Parquet, validation included vs DuckDB peer on the clean rows (CSV)",
        "bad_row_overhead": "engine on the realistic roster vs on its clean twin (bad-row overhead)",
    }
    for key, label in labels.items():
        if key in peer:
            p = peer[key]
            out.append(
                f"| {label} | {_cell(p['a']['wall'])} | {_cell(p['b']['wall'])} | {p['ratio_wall']:.2f} × "
                f"| {p['ratio_cpu']:.2f} × | {p['a']['peak_mib'] / 1024:.2f} GiB |"
            )
    if "duckdb" in peer:
        out.append(f"| DuckDB peer | {peer['duckdb']} | | | | |")
    if "same_lines" in peer:
        out += ["", f"Same payment lines as the peer: {'yes' if peer['same_lines'] else 'NO'}."]
    return out


def _seconds(by_name: dict[str, float], pattern: str, size: str) -> float | None:
    return by_name.get(pattern.format(s=size))


def _cell(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _machine(info: dict) -> str:  # type: ignore[type-arg]
    cpu = info.get("cpu", {})
    return (
        f"{cpu.get('brand_raw', info.get('processor', '?'))}, {cpu.get('count', '?')} cores, "
        f"Python {info.get('python_version', '?')}, {info.get('system', '')} {info.get('release', '')}"
    ).strip()


def report(path: Path) -> str:
    data = json.loads(path.read_text())
    by_name = {b["name"]: b["stats"]["min"] for b in data["benchmarks"]}
    out = [
        f"Machine: {_machine(data['machine_info'])}; run {data['datetime'][:10]}"
        f" (`make bench`, fastest of 5 rounds at 10k/100k, one round at 1M).",
        "",
        "| stage, 2023 year run (seconds) | " + " | ".join(SIZES) + " | share of 1M end to end (CSV) |",
        "|---|" + "---:|" * (len(SIZES) + 1),
    ]
    e2e = _seconds(by_name, "test_end_to_end[{s}-csv]", "1M")
    for label, pattern in STAGES:
        cells = [_cell(_seconds(by_name, pattern, s)) for s in SIZES]
        own = _seconds(by_name, pattern, "1M")
        share = f"{100 * own / e2e:.0f} %" if own is not None and e2e and "end to end" not in label else ""
        out.append(f"| {label} | " + " | ".join(cells) + f" | {share} |")
    for fmt, name in (("csv", "CSV"), ("parquet", "Parquet")):
        floor = [
            (r + w)
            if (r := _seconds(by_name, f"test_read[{{s}}-{fmt}]", s)) is not None
            and (w := _seconds(by_name, "test_write_payments[{s}]", s)) is not None
            else None
            for s in SIZES
        ]
        total = [_seconds(by_name, f"test_end_to_end[{{s}}-{fmt}]", s) for s in SIZES]
        ratio = [f"{t / f:.1f} ×" if t and f else "–" for t, f in zip(total, floor, strict=True)]
        out.append(
            f"| floor from {name}: read + write payments.csv | " + " | ".join(map(_cell, floor)) + " | |"
        )
        out.append(f"| end to end ÷ floor ({name}) | " + " | ".join(ratio) + " | |")
    out += ["", "| engine (seconds) | " + " | ".join(SIZES) + " |", "|---|" + "---:|" * len(SIZES)]
    for label, pattern in ENGINES:
        cells = [_cell(_seconds(by_name, pattern, s)) for s in SIZES]
        if any(c != "–" for c in cells):
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    out += _impact(data)
    startup = [(label, by_name.get(name)) for label, name in STARTUP]
    if any(v is not None for _, v in startup):
        out += ["", "| start-up, fresh process (seconds, fastest of 5) | |", "|---|---:|"]
        out += [f"| {label} | {_cell(v)} |" for label, v in startup]
    out += _peer_lines()
    memory = RESULTS / "peak_memory.json"
    if memory.exists():
        out += ["", "| peak memory, one process (`benchmarks/peak_memory.py`) | rows | seconds | peak RSS |"]
        out.append("|---|---:|---:|---:|")
        for name, m in sorted(json.loads(memory.read_text()).items()):
            out.append(f"| {name} | {m['rows']:,} | {m['seconds']:.1f} | {m['peak_mib'] / 1024:.2f} GiB |")
    return "\n".join(out)


def _impact(data: dict) -> list[str]:  # type: ignore[type-arg]
    """`subsidy impact` against one evaluate (benchmarks/test_impact.py), fastest of each, wall and CPU."""
    info = {b["name"]: b.get("extra_info", {}) for b in data["benchmarks"]}
    rows = []
    for fmt, label in (
        ("csv", "CSV files only (`--format csv`)"),
        ("csv+xlsx", "with impact.xlsx (default)"),
    ):
        cells = []
        for s in SIZES:
            x = info.get(f"test_impact_over_evaluate[{s}-{fmt}]")
            cells.append(
                f"{x['impact_wall_seconds']:.2f} s / {x['evaluate_wall_seconds']:.2f} s = "
                f"{x['impact_over_evaluate_wall']:.2f} × (CPU {x['impact_over_evaluate_cpu']:.2f} ×)"
                if x
                else "–"
            )
        if any(c != "–" for c in cells):
            rows.append(f"| impact ÷ evaluate, {label} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return ["", "| `subsidy impact` ÷ `evaluate`, from CSV | " + " | ".join(SIZES) + " |",
            "|---|" + "---:|" * len(SIZES), *rows]  # fmt: skip


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"))
