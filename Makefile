# The README's two commands are `make run` and `make test`; everything else is a step they call.
PY := .venv/bin/python
STAMP := .venv/.installed-$(shell sha256sum requirements.txt | cut -c1-16)
HOST ?= 127.0.0.1
PORT ?= 8000
# Services mode for the second test pass: the machine's own Redis and Postgres on their standard ports.
SERVICES_ENV := REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/adstudio}

.PHONY: setup run serve test test-embedded test-services lint typecheck check bench evaluate

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || python3.11 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
	rm -f .venv/.installed-*
	touch $(STAMP)

# Development opts in to DEBUG here; the settings' default is production (DEBUG=false make run tries that).
DEV := DEBUG=$${DEBUG:-true}

run: setup
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(DEV) $(PY) manage.py seed_demo
	$(DEV) $(PY) -m daphne -b $(HOST) -p $(PORT) adstudio.asgi:application

test: setup lint typecheck test-embedded test-services

test-embedded: setup
	$(PY) -m pytest -m "not services"

# The web suite again on Postgres + Redis, the end-to-end test with a separate worker process, and the
# reliability tests (burst order, kill -9, Redis restart, ffmpeg failure, full disk; about 4 minutes).
test-services: setup
	$(SERVICES_ENV) $(PY) -m pytest tests/web tests/e2e/test_services.py tests/reliability

# ruff, then the import boundaries (.importlinter: engine below web, web on the engine's surface, layers) and
# a whole-graph cycle check; tests/architecture shows each rule catching a deliberate violation.
lint: setup
	$(PY) -m ruff check .
	.venv/bin/lint-imports --no-logo --no-cache
	PYTHONPATH=. $(PY) scripts/import_cycles.py

# mypy on the engine, the evaluation tools and the web app (django-stubs); files are listed in pyproject.toml.
typecheck: setup
	$(PY) -m mypy

# The evaluation tools live outside the engine (evals/); see docs/BENCHMARKS.md and docs/QUALITY.md.
bench: setup
	$(PY) -m evals.bench

evaluate: setup
	$(PY) -m evals.evaluate --quick
