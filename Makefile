# Pingan: `make demo` and `make test` bootstrap everything they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# uv from PATH, else the one pip installs into this Python (bootstrap below).
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
export PINGAN_DATA_DIR ?= $(CURDIR)/data
PORT ?= 8501
SCALE ?= demo
# pytest-xdist workers: one per core (the suite's budget is 15 minutes on 2 cores).
TEST_WORKERS ?= auto

.PHONY: help bootstrap browser documents demo sample run serve ui test lint typecheck bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# --compile-bytecode: the tests and every `pingan` command start many Python processes (dbt
# runs as a subprocess per step); with PYTHONDONTWRITEBYTECODE set, as on our CI machines, each
# would compile dagster's and dbt's sources again (about 3 s a process). Compiled once here.
bootstrap: ## install uv when missing and the locked environment
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode

browser: ## install Debian's chromium and CJK fonts for browser tests (root, apt)
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

documents: ## install the TrueType CJK font of the PDF notices and poppler for their tests (root, apt)
	@{ fc-list 2>/dev/null | grep -qi "wqy-zenhei" && command -v pdftoppm >/dev/null 2>&1; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei poppler-utils >/dev/null; }

demo: bootstrap documents ## generate the demo city, run the whole pipeline, serve the dashboards
	$(RUN) pingan sample --scale $(SCALE) --out "$(PINGAN_DATA_DIR)"
	$(RUN) pingan run
	$(RUN) pingan serve --port $(PORT)

sample: bootstrap ## generate the demo city's exports into $PINGAN_DATA_DIR/landing
	$(RUN) pingan sample --scale $(SCALE) --out "$(PINGAN_DATA_DIR)"

run: bootstrap ## run the pipeline once (ingest new files, build, check, publish)
	$(RUN) pingan run

serve: bootstrap ## serve the dashboards on 127.0.0.1:$(PORT)
	$(RUN) pingan serve --port $(PORT)

ui: bootstrap ## start the Dagster UI on 127.0.0.1 (instance under $PINGAN_DATA_DIR/dagster)
	$(RUN) python -m orchestration.ui

lint: bootstrap ## ruff (lint, format), sqlfluff on the dbt models, dbt-bouncer on the dbt manifest
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	cd dbt_project && $(RUN) sqlfluff lint models --processes 2
	cd dbt_project && PINGAN_DB="$(PINGAN_DATA_DIR)/warehouse.duckdb" $(RUN) dbt parse --quiet --profiles-dir . --target-path target
	cd dbt_project && $(RUN) dbt-bouncer run --config-file dbt-bouncer.yml

typecheck: bootstrap ## mypy on contracts, ingest, simulator, dashboards and orchestration
	$(RUN) mypy

# --no-loadscope-reorder: pytest-xdist would otherwise hand out the files by their number
# of tests, largest first, undoing the order tests/conftest.py gives them (the slow files
# first): files of one or a few long tests came among the last (test_incremental_staging.py,
# one test of 70 s, was 65th of 68 files; test_pipeline.py, five tests of three minutes, 40th).
test: bootstrap browser documents lint typecheck ## lint, type-check and run every test
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

bench: bootstrap browser ## run the benchmarks; results in benchmarks/results/
	$(RUN) python -m benchmarks.run_all

clean: ## remove generated data and caches
	rm -rf data .pytest_cache .ruff_cache .mypy_cache dbt_project/target dbt_project/logs test-artifacts
