# One command each: `make extract` (set up + run the main job), `make test` (set up + run the tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# A CPU build of torch: from a local wheel folder where the machine has one, else PyTorch's CPU index
# (a plain `pip install torch` on Linux pulls a multi-GB CUDA build).
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
OUT ?= out

.PHONY: setup setup-runtime setup-test extract test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/pip install -q "$(TORCH_SPEC)" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)" --index-url $(TORCH_INDEX)
	touch $@

# The runtime alone (what `make extract` needs): torch, transformers, tokenizers, ... no dev extras.
$(VENV)/.installed-runtime: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.installed-runtime
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup-runtime: $(VENV)/.installed-runtime

setup: $(VENV)/.installed

extract: setup-runtime
	mkdir -p $(OUT)
	$(BIN)/hasila-extract examples/articles.jsonl -o $(OUT)/incidents.jsonl --html $(OUT)/report.html
	@echo "records: $(OUT)/incidents.jsonl   report: $(OUT)/report.html"

setup-test: setup
	bash scripts/setup_test_env.sh $(BIN)/python

test: setup-test
	$(BIN)/python -m pytest -q -ra tests

clean:
	rm -rf $(VENV) .venv-ls $(OUT)
