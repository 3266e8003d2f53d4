# Every target bootstraps .venv at the repository root when it is missing or
# older than pyproject.toml, so a fresh clone needs only `make serve` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test migrate schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

serve: install
	$(BIN)/pgbs migrate
	$(BIN)/pgbs seed-demo --if-empty
	$(BIN)/pgbs serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: install
	$(BIN)/pgbs migrate

schema: install
	$(BIN)/pgbs export-schema

clean:
	rm -rf $(VENV) build *.egg-info
