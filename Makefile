# pilot-eval: two commands do all set-up on a fresh machine (see README).
#   make report   build the environment and the demo pilot's report
#   make test     build the environment and run the whole test suite (lint, pytest, nbval)
# `make help` lists every target. Targets documented with `## text` on their line appear there.
PYTHON_BOOT ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.pilot-eval-installed
# One BLAS thread: the models here are small, and threads fight on a 2-core machine
# (a DiD test file took 60-108 s multi-threaded under load, 13 s single-threaded).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
DEMO_STAMP  := data/demo/truth.json

.DEFAULT_GOAL := help
.PHONY: help setup report demo-data test lint format golden benchmarks clean browser-deps

help: ## list the targets
	@echo "Targets (the README's two commands are make report and make test):"
	@awk -F':.*## ' '/^[a-zA-Z_-]+:.*## / { printf "  %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: $(STAMP) ## create .venv, install the package with its test and dev extras, register the kernel

# The test extra is what `make test` needs (pytest, nbval, ruff, mypy, import-linter, ...);
# the dev extra adds the pre-commit hooks' tools (pre-commit, nbstripout).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	$(PY) -m ipykernel install --sys-prefix --name pilot-eval --display-name "Python (pilot-eval)"
	@touch $(STAMP)

demo-data: $(DEMO_STAMP) ## generate the SYNTHETIC demo data in data/demo

$(DEMO_STAMP): $(STAMP) src/pilot_eval/demo.py
	$(BIN)/pilot-eval demo --out data/demo

report: $(DEMO_STAMP) ## write the demo pilot's report to reports/demo-belvedere/
	$(BIN)/pilot-eval run pilots/demo-belvedere.yml

# Import contracts and mypy's settings live in pyproject.toml ([tool.importlinter], [tool.mypy]).
lint: $(STAMP) ## ruff check, ruff format --check, import contracts (lint-imports), mypy
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/mypy

format: $(STAMP) ## reformat and autofix src, tests and benchmarks with ruff
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Library tests (with coverage, configured in pyproject.toml's [tool.coverage]), then
# notebooks: the template in lax mode, the golden demo notebook strictly.
test: $(DEMO_STAMP) lint browser-deps ## lint, then pytest with coverage, then the notebooks with nbval
	$(BIN)/pytest --cov=pilot_eval --cov-report=term:skip-covered
	$(BIN)/pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/evaluate_pilot.ipynb
	$(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider \
		--nbval-sanitize-with tests/golden/sanitize.cfg tests/golden/evaluate_pilot_demo.ipynb

# The browser tests (tests/browser/) open the report in the system's Chromium and read its
# PDF with poppler-utils. On Debian (CI: a bare machine, as root) both are installed when
# missing; silent when present. Playwright never downloads a browser of its own.
# PILOT_EVAL_CHROMIUM=/path/to/chrome uses another browser; PILOT_EVAL_NO_BROWSER=1 skips it all.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
browser-deps: ## install Debian's chromium and poppler-utils if missing (for tests/browser)
	@if [ "$$PILOT_EVAL_NO_BROWSER" = 1 ]; then exit 0; fi; \
	if { [ -n "$$PILOT_EVAL_CHROMIUM" ] || [ -x /usr/bin/chromium ]; } && \
		command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser tests: install Chromium and poppler-utils (pdftoppm, pdftotext), or set PILOT_EVAL_NO_BROWSER=1"; \
		exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	echo "Installing Debian's chromium and poppler-utils for the browser tests (apt-get)"; \
	log=$$(mktemp); \
	{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
		--no-install-recommends chromium poppler-utils fonts-liberation fonts-dejavu-core; } \
		>"$$log" 2>&1 || { tail -n 20 "$$log"; rm -f "$$log"; \
		echo "Could not install chromium: run 'apt-get install chromium poppler-utils' as root"; \
		exit 1; }; \
	rm -f "$$log"

# Re-make the golden notebook after an intended change in the report's output.
golden: $(DEMO_STAMP) ## re-make tests/golden/ after an intended change in the report's output
	$(PY) tests/golden/make_golden.py

benchmarks: $(DEMO_STAMP) ## run benchmarks/bench_*.py (on demand, not in CI)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean: ## remove generated reports, demo data and caches
	rm -rf reports/*/ data/demo .pytest_cache .coverage
