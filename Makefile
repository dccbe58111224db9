# One place for every job. `make demo` and `make test` set everything up from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench seed clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13), sys.version" || { echo "need Python 3.11 or 3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The seed scenario: 兴隆镇 2023, totals printed, files in out/xinglong-2023/
demo: $(STAMP)
	$(BIN)/subsidy evaluate fixtures/xinglong-2023/roster.xlsx --period 2023 --out out/xinglong-2023 \
		--format csv,xlsx --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider --benchmark-only --benchmark-columns=min,rounds \
		--benchmark-json=benchmarks/results/latest.json
	$(BIN)/python benchmarks/peak_memory.py benchmarks/data/roster-1M.csv
	$(BIN)/python benchmarks/peak_memory.py benchmarks/data/roster-1M.parquet

seed: $(STAMP)
	$(BIN)/python fixtures/xinglong-2023/generate.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
