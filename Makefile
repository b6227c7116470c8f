# One task runner; CI (.ci/run) calls the same targets.
#   make serve   run the map and API at http://$(HOST):$(PORT)
#   make test    run the test suite
#   make lint    ruff, mypy and import-linter (the layer contracts in .importlinter)
#   make smoke   install without extras in a fresh venv, start the app, GET /readyz (.ci/smoke)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: serve test lint smoke bench clean data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Front-end libraries from the npm registry (served by the app from node_modules/).
NODE_STAMP := node_modules/.installed
# Reinstalled whenever package.json or package-lock.json is newer than the stamp. --include=dev: the test-only
# axe-core (tests/browser/test_axe.py) even where npm is set to omit dev dependencies (NODE_ENV=production).
$(NODE_STAMP): package.json package-lock.json
	npm ci --include=dev --no-audit --no-fund --loglevel=error
	touch $@

serve: $(STAMP) $(NODE_STAMP)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/locator serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check locator tests bench geodata lint
	$(BIN)/ruff format --check locator tests bench geodata lint
	$(BIN)/mypy locator
	PYTHONPATH=. $(BIN)/lint-imports --no-cache

smoke:
	PYTHON=$(PYTHON) .ci/smoke

bench: $(STAMP)
	$(BIN)/python bench/nearest.py

data: $(STAMP)
	$(BIN)/python geodata/build_districts.py
	$(BIN)/python geodata/build_districts_land.py
	$(BIN)/python geodata/build_venues.py --seed 2621

clean:
	rm -rf $(VENV) build *.egg-info node_modules
