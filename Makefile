# pilot-eval: two commands do all set-up on a fresh machine (see README).
#   make report   build the environment and the demo pilot's report
#   make test     build the environment and run the whole test suite (pytest + nbval)
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

.PHONY: setup report demo-data test lint format golden benchmarks clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name pilot-eval --display-name "Python (pilot-eval)"
	@touch $(STAMP)

demo-data: $(DEMO_STAMP)

$(DEMO_STAMP): $(STAMP) src/pilot_eval/demo.py
	$(BIN)/pilot-eval demo --out data/demo

report: $(DEMO_STAMP)
	$(BIN)/pilot-eval run pilots/demo-belvedere.yml

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Library tests, then notebooks: the template in lax mode, the golden demo notebook strictly.
test: $(DEMO_STAMP) lint
	$(BIN)/pytest
	$(BIN)/pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/evaluate_pilot.ipynb
	$(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider \
		--nbval-sanitize-with tests/golden/sanitize.cfg tests/golden/evaluate_pilot_demo.ipynb

# Re-make the golden notebook after an intended change in the report's output.
golden: $(DEMO_STAMP)
	$(PY) tests/golden/make_golden.py

benchmarks: $(DEMO_STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf reports/*/ data/demo .pytest_cache
