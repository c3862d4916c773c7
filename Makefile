# Switchboard: `make run` serves on http://127.0.0.1:5000, `make test` runs every test.
# Running needs Python only (static/vendor/ is committed); Node and npm are for
# `make test`, `make bench` and `make vendor`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip

PROCESSES ?= 2
TEST_WORKERS ?= 3
PORT      ?= 8080

.PHONY: run test test-fast lint setup dev vendor translations bench bench-smoke cluster clean

run: setup
	$(PY) app.py

setup: $(VENV)/.runtime

dev: setup $(VENV)/.dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Refresh the committed browser builds in static/vendor/ from package-lock.json
# (after changing a version there): a clean `npm ci`, then the copy. Commit
# static/vendor/ with the lock; tests/unit/test_vendor.py fails until you do.
vendor:
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed
	bash scripts/vendor.sh

# After changing a string in templates/ or in Python: extract (babel.cfg),
# update translations/*/LC_MESSAGES/messages.po, translate what is new or
# fuzzy there, run it again to compile the .mo, and commit .po and .mo (the
# app reads the .mo; tests/unit/test_translations.py fails until both agree).
translations: setup
	$(PY) scripts/translations.py

bench/node_modules/.installed: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund --loglevel=error
	touch $@

# Every layer: the pages' DOM-free modules (node --test tests/js/), unit,
# integration, e2e (real server, both transports, Node client, eventlet and
# gevent, PostgreSQL, a cluster behind nginx), browser (Playwright + Debian's
# Chromium), security, and the benchmark's smoke mode; after `make lint`. On
# TEST_WORKERS xdist workers (most of a test's time is spent waiting on
# servers, not on the 2 cores); tests/conftest.py keeps tests that share a
# server, a Redis database or the machine's load in one group each
# (tests/support/xdist_groups.py). TEST_WORKERS=0 runs everything in one
# process, as `pytest tests` does.
test: lint node_modules/.installed bench/node_modules/.installed
	node --test tests/js/
	$(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadgroup

# Lint and types: ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade) on
# every Python file, then mypy on the package code; both configured in
# pyproject.toml. `make test` runs it first.
lint: dev
	$(PY) -m ruff check .
	$(PY) -m mypy

# Every in-process test (unit, integration and the security tests that use the
# test client), no server, no browser, nothing slow: for the edit-test loop.
# tests/conftest.py marks the layers (e2e, browser, slow) by where tests live.
test-fast: dev
	$(PY) -m pytest tests -m "not e2e and not browser and not slow"

# The benchmark against bare python-socketio and Node's socket.io (about 15 min
# on 2 cores: 877 s in the run recorded in docs/performance.md);
# writes bench/results/latest.{json,md} and docs/performance.md.
bench: setup bench/node_modules/.installed
	bash bench/run.sh

# Every scenario and server at tiny scale, in seconds (make test runs it too).
bench-smoke: setup bench/node_modules/.installed
	bash bench/run.sh --smoke

# N processes + nginx + Redis on this machine (docs/deploy.md).
cluster: setup
	$(PY) deploy/cluster.py --processes $(PROCESSES) --port $(PORT)

clean:
	rm -rf $(VENV) node_modules test-output
