#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, migrations, SQLite, PostgreSQL, browser checks.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${NARVARO_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/narvaro}"
export NARVARO_HOME="$(mktemp -d -t narvaro-ci-XXXXXX)"
trap 'rm -rf "$NARVARO_HOME"' EXIT
JOBS="${NARVARO_TEST_JOBS:-2}"

step() { printf '\n==> %s\n' "$*"; }

step "ruff"
$BIN/ruff check .
$BIN/ruff format --check .

step "mypy"
$BIN/mypy narvaro

step "migrations are complete"
DJANGO_SETTINGS_MODULE=narvaro.config.settings_test $BIN/django-admin makemigrations --check --dry-run

step "translations compile"
DJANGO_SETTINGS_MODULE=narvaro.config.settings_test $BIN/python scripts/check_translations.py

step "local test servers (AT Protocol PDS under Node 22)"
bash tests/servers/pds_install.sh >/dev/null

step "tests on SQLite"
$BIN/pytest -q -n "$JOBS" -m "not browser"

step "tests on PostgreSQL"
bash scripts/ensure_services.sh
NARVARO_DATABASE_URL="$PG_URL" $BIN/pytest -q -n "$JOBS" -m "not browser"

step "browser checks (Chromium, axe-core, keyboard)"
DJANGO_ALLOW_ASYNC_UNSAFE=true $BIN/pytest -q -m browser -p no:xdist
