# One place for every job. `make demo` and `make test` set everything up from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench bench-peer seed clean screenshots handbook
DUCK ?= /tmp/duck

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13), sys.version" || { echo "need Python 3.11 or 3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The seed scenario: 兴隆镇 2023, totals printed, files in out/xinglong-2023/
demo: $(STAMP)
	mkdir -p out
	$(BIN)/subsidy evaluate fixtures/xinglong-2023/roster.xlsx --period 2023 --out out/xinglong-2023 \
		--format csv,xlsx --overwrite

## The suite with its services: a throwaway PostgreSQL (pg_virtualenv) and Debian's Chromium, installed if missing
test: $(STAMP)
	PYTHON=$(BIN)/python ./scripts/test-services.sh

## The browser test, saving the pages to docs/screenshots/
screenshots: $(STAMP)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 SUBSIDY_SCREENSHOTS=1 $(BIN)/python -m pytest tests/web/test_web_pages_browser.py

## The bundled rulebook as a Chinese handbook, kept in docs/handbook/ (tests/test_handbook.py checks it is current)
handbook: $(STAMP)
	$(BIN)/subsidy rules book --out docs/handbook --overwrite

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## The DuckDB peer's Python (outside the project's dependencies); skipped by the benchmarks when it cannot be made
bench-peer:
	test -x $(DUCK)/bin/python || { python3 -m venv $(DUCK) && $(DUCK)/bin/pip install --quiet duckdb==2.0.1; } || true

bench: $(STAMP) bench-peer
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider --benchmark-only --benchmark-columns=min,rounds \
		--benchmark-json=benchmarks/results/latest.json
	$(BIN)/python benchmarks/peak_memory.py benchmarks/data/roster-1M.csv
	$(BIN)/python benchmarks/peak_memory.py benchmarks/data/roster-1M.parquet
	SUBSIDY_DUCK_PYTHON=$(DUCK)/bin/python $(BIN)/python benchmarks/peer_ratio.py 1M
	$(BIN)/python benchmarks/peak_memory.py benchmarks/data/roster-1M-realistic.csv
	$(BIN)/python benchmarks/peak_memory.py benchmarks/data/roster-1M-realistic.parquet
	$(BIN)/python benchmarks/report.py > benchmarks/results/table.md
	cat benchmarks/results/table.md

seed: $(STAMP)
	$(BIN)/python fixtures/xinglong-2023/generate.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
