# The two commands of the README: `make run` (the main job on the embedded default) and `make test`.
# Both create .venv and install the project into it first (again whenever pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test bench lint

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet "torch==2.13.0"
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,local]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/shipdraft run

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(VENV)/bin/python bench/parse.py
	$(VENV)/bin/python bench/lookup.py
	$(VENV)/bin/python bench/pipeline.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
