# Every target bootstraps .venv at the repository root when it is missing or
# older than pyproject.toml, so a fresh clone needs only `make serve` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test migrate schema clean web web-if-node browser-deps bench

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

serve: install web-if-node
	$(BIN)/pgbs migrate
	$(BIN)/pgbs seed-demo --if-empty
	$(BIN)/pgbs serve

test: install web-if-node
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: install
	$(BIN)/pgbs migrate

schema: install
	$(BIN)/pgbs export-schema

clean:
	rm -rf $(VENV) build *.egg-info web/dist web/node_modules

# The campaign map page and GraphiQL, built from web/ into web/dist, which the
# service serves under /static. `make web` needs Node.js 20 or later and npm.
WEB_SOURCES := web/package-lock.json web/build.mjs $(shell find web/src -type f 2>/dev/null)
WEB_STAMP := web/dist/.built

web: $(WEB_STAMP)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

$(WEB_STAMP): web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build
	touch $(WEB_STAMP)

# serve and test build the front end only where Node.js is installed; without
# it, /map and the GraphiQL page return a message that says to run `make web`.
web-if-node:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory web; \
	else \
		echo "Node.js is not installed: skipping the front-end build (/map and GraphiQL need \`make web\`)."; \
	fi

# Headless Chromium and its WebDriver for the browser tests (Debian packages,
# installed as root); nothing is done when both are present.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "chromium and chromedriver are installed"; \
	else \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

# Benchmarks against bare baselines on this machine (bench/, BENCHMARKS.md).
# BENCH_QUICK=1 runs each at a reduced size. The first full run generates
# 100,000 members for SQLite and PostgreSQL (5 to 7 minutes), cached after.
bench: install
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python -m bench.run
