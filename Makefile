# Narvaro: the two commands of the README quick start are `make demo` and `make test`.
# Both do all set-up themselves on a fresh machine with Python 3.11 and Node.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install lint test-sqlite test-postgres test-browser services browser messages clean

## make demo: install everything, load the demo organisation, run server and worker.
demo: install
	$(BIN)/narvaro demo

## make test: install everything and run every check CI runs.
test: install browser
	bash scripts/test.sh

install: $(BIN)/narvaro node_modules/.package-lock.json

$(BIN)/narvaro: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

## Debian's Chromium for the browser checks (Playwright's own download cannot work offline).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

messages: install
	cd narvaro && ../$(BIN)/django-admin makemessages -l sv --settings=narvaro.config.settings_test --ignore=tests/* && ../$(BIN)/django-admin compilemessages -l sv --settings=narvaro.config.settings_test

clean:
	rm -rf $(VENV) node_modules tests/servers/node_modules narvaro-data
