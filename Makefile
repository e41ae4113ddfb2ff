# Mini CRM — `make run` (the whole stack with sample data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit frontend frontend-test system-deps bench bench-smoke chaos clean help

help:
	@echo "make run    - start Redis, the database, every service and the UI with sample data"
	@echo "make test   - lint, type-check and run the whole test suite"
	@echo "make bench  - run the benchmark suite (bench/results.json)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,local]'
	@touch $(STAMP)

venv: $(STAMP)

# redis-server (tests start their own on a free port) and chromium (browser tests).
system-deps:
	@bash scripts/ensure_system_deps.sh

frontend/dist/index.html: $(shell find frontend/src frontend/index.html frontend/package.json -type f 2>/dev/null)
	@bash scripts/build_frontend.sh

frontend: frontend/dist/index.html

run: $(STAMP) system-deps frontend
	$(PY) scripts/run_stack.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

frontend-test: frontend
	@if [ -f frontend/package.json ]; then cd frontend && npm test --silent; fi

# Two workers, a module each at a time (--dist loadfile: a module's tests keep their
# order and its fixtures); TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2

test: $(STAMP) system-deps lint typecheck frontend-test
	$(PY) -m pytest -q -p no:cacheprovider --durations=40 -n $(TEST_WORKERS) --dist loadfile

unit: $(STAMP)
	$(PY) -m pytest -q -m unit

# Full sizes, but campaigns of 100k and 10k recipients (docs/performance.md, "Results").
bench: $(STAMP) system-deps frontend
	$(PY) -m bench.run --full

bench-smoke: $(STAMP) system-deps
	$(PY) -m bench.run --smoke

chaos: $(STAMP) system-deps
	$(PY) -m pytest -q tests/chaos

clean:
	rm -rf .data test-artifacts frontend/dist
