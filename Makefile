# bankmetrics: `make run` and `make test` are all a newcomer needs.
# Every target sets up .venv from requirements.lock first (only when the lock or pyproject changed).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The extraction hot path, compiled by mypyc into the venv (tools/build_native.py). Rebuilt when one
# of these changes; until then flows/__init__.py runs them as pure Python, never a stale build.
NATIVE_SRC := flows/normalise.py flows/extract.py flows/numerals.py flows/models.py flows/lexicon.py flows/script.py \
              flows/values.py flows/attribution.py flows/metric_match.py flows/context.py flows/subject.py \
              flows/document.py flows/phrasing.py flows/dates.py
NATIVE := $(VENV)/bankmetrics-native/manifest.json
RAW ?= raw
DB ?= warehouse/bankmetrics.duckdb
EXPORTS ?= exports
EVAL_DIR ?= warehouse/eval
N ?= 20000

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test eval bench export report clean native

setup: $(STAMP) $(NATIVE)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Optional: without a C compiler this prints why and the pipeline runs as pure Python.
$(NATIVE): $(STAMP) $(NATIVE_SRC) tools/build_native.py
	$(BIN)/python tools/build_native.py $(NATIVE_SRC)

native: $(NATIVE)

run: $(STAMP) $(NATIVE)
	$(BIN)/bankmetrics run --raw-dir $(RAW) --db $(DB) --export-dir $(EXPORTS)

test: $(STAMP) $(NATIVE)
	$(BIN)/python -m pytest -q

# Each set is scored on a fresh warehouse: a rerun skips unchanged files, so a warehouse kept from
# before a rule change would score the old rules.
eval: $(STAMP) $(NATIVE)
	rm -rf $(EVAL_DIR) && mkdir -p $(EVAL_DIR)
	@echo "== seeds (raw/)"
	$(BIN)/bankmetrics run --raw-dir $(RAW) --db $(EVAL_DIR)/seeds.duckdb --no-export > /dev/null
	$(BIN)/bankmetrics eval --db $(EVAL_DIR)/seeds.duckdb --gold tests/fixtures/seed_gold.jsonl
	@echo "== holdout (tests/fixtures/holdout: other banks, years, scripts, layouts)"
	$(BIN)/bankmetrics run --raw-dir tests/fixtures/holdout --db $(EVAL_DIR)/holdout.duckdb --no-export > /dev/null
	$(BIN)/bankmetrics eval --db $(EVAL_DIR)/holdout.duckdb --gold tests/fixtures/holdout_gold.jsonl
	@echo "== holdout2 (tests/fixtures/holdout2: a second set, blind when written)"
	$(BIN)/bankmetrics run --raw-dir tests/fixtures/holdout2 --db $(EVAL_DIR)/holdout2.duckdb --no-export > /dev/null
	$(BIN)/bankmetrics eval --db $(EVAL_DIR)/holdout2.duckdb --gold tests/fixtures/holdout2_gold.jsonl
	@echo "== devset (devset/raw: real articles, git-ignored; blind labels in devset/gold)"
	@if ls devset/raw/*.txt >/dev/null 2>&1; then \
	  cat devset/gold/*.jsonl > $(EVAL_DIR)/devset_gold.jsonl && \
	  $(BIN)/bankmetrics run --raw-dir devset/raw --db $(EVAL_DIR)/devset.duckdb --no-export > /dev/null && \
	  $(BIN)/bankmetrics eval --db $(EVAL_DIR)/devset.duckdb --gold $(EVAL_DIR)/devset_gold.jsonl | tail -n 1; \
	else echo "devset/raw holds no pages: rebuild it from devset/manifest/*.csv as devset/README.md says"; fi

bench: $(STAMP) $(NATIVE)
	$(BIN)/python benchmarks/bench.py --n $(N)
	$(BIN)/python benchmarks/realpages.py
	$(BIN)/python benchmarks/report_bench.py --db bench-out/w0.duckdb

export: $(STAMP) $(NATIVE)
	$(BIN)/bankmetrics export --db $(DB) --to $(EXPORTS)

clean:
	rm -rf $(VENV) warehouse exports .pytest_cache
