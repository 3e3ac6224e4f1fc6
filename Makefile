# Two commands for newcomers: `make demo` and `make test`. Each creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-nbs test-py check-sync docs-proc export clean bench

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps lmms-eval==0.7.3  # the oracle of tests/test_scoring.py: task files only, none of its heavy dependencies
	touch $@

install: $(BIN)/.installed

## demo: the shipped colour-toy warm start (a tiny Qwen2.5-VL) trains 20 TW-GRPO steps; before/after scores, plots in runs/demo
demo: install
	$(BIN)/twgrpo demo

## test: notebooks and package in sync, notebooks clean, docs pre-processing, notebooks as tests, pytest
test: install check-sync docs-proc test-nbs test-py

check-sync: install
	$(BIN)/python scripts/check_sync.py

docs-proc: install
	$(BIN)/python scripts/docs_proc.py > /dev/null

# The run notebooks (nbs/runs/train, evaluate, reproduce) are executed by tests/test_runs.py with papermill, with the
# parameters that matter (two processes, a failing run, side-by-side protocols), so nbdev-test does not run them twice.
test-nbs: install
	$(BIN)/nbdev-test --n-workers 2 --timing --skip-file-re '^([_.]|(train|evaluate|reproduce)\.ipynb$$)'

test-py: install
	$(BIN)/python -m pytest -q tests

export: install
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

bench: install
	for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf _docs _proc build dist *.egg-info
