# The two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-stress lint format schema schema-check bench venv clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The demo logins and client secret are kept between runs; RESET_DEMO=1 issues new ones. Links in
# coordinator e-mails point at this server unless NOTIFICATION_BASE_URL says otherwise, and webhooks
# may go to a receiver on this machine over plain HTTP (`manage.py webhook_receiver`): demo only.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT) $(if $(RESET_DEMO),--reset)
	NOTIFICATION_BASE_URL="$${NOTIFICATION_BASE_URL:-http://$(HOST):$(PORT)}" \
	WEBHOOK_ALLOW_HTTP="$${WEBHOOK_ALLOW_HTTP:-true}" WEBHOOK_ALLOWED_HOSTS="$${WEBHOOK_ALLOWED_HOSTS:-127.0.0.1}" \
		$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The service tests (PostgreSQL, Redis, real Celery workers, gunicorn, fault injection) while
# stress-ng keeps every core busy: timing assumptions that only hold on an idle machine fail here.
# Needs DATABASE_URL and REDIS_URL; installs stress-ng with apt-get when missing (as root).
# STRESS_CPUS busy workers (default: one per core), stopped when the tests end (or after
# STRESS_MAX_SECONDS at the latest); STRESS_TESTS narrows the selection.
STRESS_CPUS ?= $(shell nproc)
STRESS_MAX_SECONDS ?= 3600
STRESS_TESTS ?= tests
test-stress: $(STAMP)
	@test -n "$(DATABASE_URL)" -a -n "$(REDIS_URL)" || \
		{ echo "make test-stress needs DATABASE_URL=postgres://... and REDIS_URL=redis://..." >&2; exit 2; }
	command -v stress-ng >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng; }
	stress-ng --cpu $(STRESS_CPUS) --timeout $(STRESS_MAX_SECONDS)s --quiet & load=$$!; \
		trap 'kill $$load 2>/dev/null; wait $$load 2>/dev/null' EXIT; \
		FAIL_ON_SKIP=1 $(PY) -m pytest $(STRESS_TESTS) -m "postgres or redis" -p no:cacheprovider $(PYTEST_ARGS)

# The pure core (instruments, stratification, FHIR mapping: no Django) is also held to
# `mypy --strict`; lint-imports checks the architecture contracts in pyproject.toml
# ([tool.importlinter]), without a cache because the whole graph takes well under a second.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy intake clinic_service
	$(VENV)/bin/mypy --strict intake/instruments intake/stratification intake/fhir
	$(VENV)/bin/lint-imports --no-logo --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The document must not depend on the database in use (integer field bounds differ between
# SQLite and PostgreSQL), so it is always generated against the embedded default.
SCHEMA_ENV := DATABASE_URL=sqlite:///$(VENV)/schema.sqlite3

schema: $(STAMP)
	$(SCHEMA_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file api_schema/openapi.yaml

schema-check: $(STAMP)
	$(SCHEMA_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file $(VENV)/openapi.check.yaml
	diff -u api_schema/openapi.yaml $(VENV)/openapi.check.yaml || \
		(echo "api_schema/openapi.yaml is stale: run 'make schema' and commit it" >&2; exit 1)

# pytest benchmarks (benchmarks/test_bench_*.py: instrument scoring, delivery), then the load test
# (benchmarks/run.py: gunicorn, Celery and PostgreSQL on 127.0.0.1, about 8 minutes; results go to
# docs/performance.md). Needs PostgreSQL at 127.0.0.1:5432 (user postgres), Redis at
# 127.0.0.1:6379 and wrk (installed with apt-get when missing and run as root).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic_bench_pytest
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
bench: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) \
		$(PY) -m pytest benchmarks -s -p no:randomly --benchmark-only --benchmark-columns=min,median,mean,max,rounds
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
