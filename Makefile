# ModelOps portal: the two commands a newcomer needs are `make demo` and `make test`; the rest are shortcuts.
#
# A fresh machine needs only python3.11, make and git: uv is installed into var/tools/, the project's
# dependencies into .venv/ exactly as uv.lock pins them, and, when running as root, the Debian packages the
# browser tests need.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
TOOLS := var/tools
UV := $(TOOLS)/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k health -x"`.
PYTEST_ARGS ?=
# Benchmark size: `make bench SIZE=small` (100,000 audit rows, 2,000 models) or full (1,000,000 rows; 100,000 models,
# 300,000 versions, 1,000,000 artifacts on PostgreSQL: DATABASE_URL=postgres://...). Extra arguments for
# `python -m bench`, e.g. BENCH_ARGS="--only web,mlflow" (groups: audit sweep web gate ingest export mlflow load
# workers; docs/performance.md). The load group needs wrk, the workers group Redis (database 8).
SIZE ?= full
BENCH_ARGS ?=
# Debian packages the test suite uses: Chromium for the browser tests; wrk for `make bench`'s load group.
SYSTEM_PACKAGES := chromium fonts-dejavu-core poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 wrk

# uv must use the machine's Python, never download one, and copy rather than hard-link across filesystems.
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

MANAGE := DEBUG=1 $(VENV)/bin/python manage.py
# Lint checks the code, not a database: an in-memory SQLite keeps it off the demo file and any server. mypy's
# Django plugin loads the settings too.
LINT_ENV := DEBUG=1 DATABASE_URL=sqlite:///:memory:
LINT_MANAGE := $(LINT_ENV) $(VENV)/bin/python manage.py
PYTEST := DEBUG=1 $(VENV)/bin/pytest

# Security linters in `make lint` (docs/security.md, "Exceptions" says why each skip is there). bandit reads the
# portal's sources; the developer tools in bench/ and scripts/ get a second pass without the checks that are their
# job (fixed-argument subprocesses, seeded pseudo-random data, requests to the local server). pip-audit checks the
# locked .venv against PyPI's vulnerability data; where PyPI's per-release JSON cannot be reached (an offline
# machine, or a registry mirror that does not serve it) it says so and is skipped, unless PIP_AUDIT_REQUIRED=1.
BANDIT_EXCLUDE := ./tests,./.venv,./var,./static,./bench,./scripts
PIP_AUDIT_REQUIRED ?= 0
export PYPI_RELEASE_PROBE := import importlib.metadata as m, urllib.request as u; \
u.urlopen("https://pypi.org/pypi/pip-audit/" + m.version("pip-audit") + "/json", timeout=15)

.PHONY: help demo run test test-sqlite test-all lint install system-packages clean bench

help:
	@echo "make demo         install, create and seed the demo database, serve http://$(HOST):$(PORT)/ with worker and beat"
	@echo "make test         install, lint, run the whole test suite (honours DATABASE_URL, REDIS_URL)"
	@echo "make test-sqlite  the test suite again on the embedded SQLite database, whatever DATABASE_URL says"
	@echo "make test-all     both at once, as CI runs them: DATABASE_URL (PostgreSQL) and the embedded SQLite database"
	@echo "make lint         ruff, mypy, Django's checks, migrations up to date, compose file valid, bandit, pip-audit"
	@echo "make bench        time the portal on a synthetic enterprise inventory, next to MLflow, under load (SIZE=small|full)"
	@echo "make run          serve like 'make demo' without seeding"
	@echo "make clean        remove the virtualenv, tools, caches, queues and logs (keeps var/portal.sqlite3)"

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (see README.md)" >&2; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -qq --disable-pip-version-check 'uv>=0.9,<1'

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

system-packages:
	@missing="$$(for package in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q 'ok installed' || echo "$$package"; done)"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Not installed: $$missing. Tests that need it will fail (as root: apt-get install $$missing)."; \
	fi

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(LINT_ENV) $(VENV)/bin/mypy .
	$(LINT_MANAGE) check --fail-level WARNING
	$(LINT_MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker/compose.yaml
	$(VENV)/bin/bandit -q -r . -x $(BANDIT_EXCLUDE) --skip B101,B404
	$(VENV)/bin/bandit -q -r bench scripts --skip B101,B105,B310,B311,B404,B603
	@if $(VENV)/bin/python -c "$$PYPI_RELEASE_PROBE" 2>/dev/null; then \
		$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off; \
	elif [ "$(PIP_AUDIT_REQUIRED)" = 1 ]; then \
		echo "pip-audit: PyPI's per-release vulnerability data cannot be reached (PIP_AUDIT_REQUIRED=1)" >&2; exit 1; \
	else \
		echo "pip-audit SKIPPED: PyPI's per-release vulnerability data cannot be reached from here;" \
			"set PIP_AUDIT_REQUIRED=1 to fail instead (docs/security.md)" >&2; \
	fi

test: install system-packages lint
	$(PYTEST) $(PYTEST_ARGS)

# The embedded default: an empty DATABASE_URL means SQLite under var/; REDIS_URL still applies.
test-sqlite: install system-packages
	DATABASE_URL= $(PYTEST) $(PYTEST_ARGS)

# Both passes side by side, one per core: the suite on DATABASE_URL (PostgreSQL) in the foreground, and on SQLite
# with a VAR_DIR of its own (so the two never share a key or upload folder), its output printed when it ends.
# Tests that do not depend on the database run in one of the two passes only (tests/markers.py).
SQLITE_PASS_DIR := var/test-sqlite
test-all: install system-packages lint
	@[[ "$${DATABASE_URL:-}" == postgres* ]] || { echo "make test-all: set DATABASE_URL to a PostgreSQL server" >&2; exit 2; }
	@rm -rf $(SQLITE_PASS_DIR) && mkdir -p $(SQLITE_PASS_DIR)
	@DATABASE_URL= VAR_DIR=$(CURDIR)/$(SQLITE_PASS_DIR) $(PYTEST) $(PYTEST_ARGS) >$(SQLITE_PASS_DIR)/pytest.log 2>&1 & \
	sqlite_pass=$$!; trap 'kill $$sqlite_pass 2>/dev/null || true' INT TERM; \
	echo "=== PostgreSQL pass (the SQLite pass runs beside it, pid $$sqlite_pass)"; \
	postgresql_status=0; $(PYTEST) $(PYTEST_ARGS) || postgresql_status=$$?; \
	sqlite_status=0; wait $$sqlite_pass || sqlite_status=$$?; \
	echo "=== SQLite pass"; cat $(SQLITE_PASS_DIR)/pytest.log; \
	echo "PostgreSQL pass exit $$postgresql_status, SQLite pass exit $$sqlite_status"; \
	[ $$postgresql_status = 0 ] && [ $$sqlite_status = 0 ]

demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) SERVE_NOTE="Sign in with a demo login listed above." scripts/serve.sh

run: install
	$(MANAGE) migrate --noinput
	HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) scripts/serve.sh

# Timings, never assertions: prints a table and writes var/bench/<timestamp>.json (docs/performance.md).
bench: install
	DEBUG=1 $(VENV)/bin/python -m bench --size $(SIZE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) var/celery var/run var/log var/staticfiles .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
