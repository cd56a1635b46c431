# Everything a new user or CI needs goes through these targets: no install step by hand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PyTorch's CPU wheel lies on this machine's disk; pip must take it, never the multi-GB CUDA build.
TORCH_WHEELS ?= /opt/wheels
PIP_FIND := $(if $(wildcard $(TORCH_WHEELS)),--find-links $(TORCH_WHEELS),)
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install run test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_FIND) "torch==2.13.0"
	$(BIN)/python -m pip install --quiet $(PIP_FIND) -e ".[dev,postgres]"
	# The ONNX export of all-MiniLM-L6-v2 and the distilled fast model, made once from the packaged weights
	# (never downloaded); kept inside the venv for every data dir. Skipped when already there.
	$(BIN)/python -m recruiter.matching.artifacts
	touch $(STAMP)

run: install
	$(BIN)/recruiter seed --if-empty
	$(BIN)/recruiter ui --host $(HOST) --port $(PORT)

# The linters take seconds: they run first, so a broken layer or import shows before the long tests.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick tier while iterating: no real model (the hashing backend stands in), no browser, no PostgreSQL.
# It fails if anything in it imported PyTorch. `make test` (what CI runs) still runs everything.
FAST_MARKERS := not slow and not browser and not postgres and not redis
test-fast: lint
	$(BIN)/python -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
