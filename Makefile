# Everything runs in a local virtual environment; the first target that needs it creates it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo install test lint fmt typecheck check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# PYTHONWARNINGS: setuptools' notice that an editable install is editable, not a problem.
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[dev,serve,dask,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ftl train data/support.train -o demo.ftl --epoch 25 --lr 0.5 --word-ngrams 2
	$(BIN)/ftl eval data/support.valid -m demo.ftl
	head -4 data/predict.txt | $(BIN)/ftl predict -m demo.ftl -k 2 --probs

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench:
	bash bench/run.sh $(ARGS)

clean:
	rm -rf $(VENV) .bench-venv demo.ftl .pytest_cache .mypy_cache .ruff_cache
