# Hookline developer entry points. Every target creates what it needs, so each works on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= $(shell command -v pyenv >/dev/null 2>&1 && test -x "$$(pyenv root)/versions/3.13.0/bin/python3.13" && echo "$$(pyenv root)/versions/3.13.0/bin/python3.13" || command -v python3.13)
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

.PHONY: setup test lint unit integration e2e contract docs-check dev demo bench bench-local chaos fuzz build sam-local sam-local-check clean portal-assets browser-deps

$(VENV)/.installed: requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it with 'pyenv install 3.13.0'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(PY) -m pip install -q -r requirements-dev.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	touch $@

# The `hookline` command (the cli package, editable: edits to cli/ take effect at once).
$(VENV)/bin/hookline: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q --no-deps --no-build-isolation -e . >$(VENV)/hookline-install.log 2>&1 \
		|| { cat $(VENV)/hookline-install.log; exit 1; }
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(SAM_VENV)/bin/python -m pip install -q -r requirements-sam.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	touch $@

setup: $(VENV)/.installed $(VENV)/bin/hookline $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/vulture
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_ENV) $(SAM) validate --lint --template template.yaml
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -f template.yaml --config-file .checkov.yaml

# The README's test command: installs everything, lints, runs every test tier, then proves sam local
# (SKIPPED, with the reason, where no container engine can run).
# --dist worksteal: a worker that runs out of tests takes queued ones from the other (the contract passes
# take minutes each and would otherwise queue up on one worker while the other idles).
test: lint browser-deps
	$(PY) -m pytest -q -n auto --dist worksteal
	$(PY) -m tests.chaos
	$(PY) -m tests.fuzz
	$(PY) -m local_stack.sam_local_check

unit: setup
	$(PY) -m pytest -q tests/unit

integration: setup
	$(PY) -m pytest -q tests/integration

e2e: setup browser-deps
	$(PY) -m pytest -q tests/e2e

# schemathesis over /v1/openapi.json against a fresh local stack (admin key, tenant key, no key): no 5xx and
# nothing the document does not declare. The short run is part of `make test`; ARGS=--full is the long one.
contract: setup
	$(PY) -m tests.contract.run $(ARGS)

# /v1/docs in Debian's headless Chromium, offline: Swagger UI renders and lists every route. The screenshot
# goes to .aws-sam/docs-screenshot.png.
docs-check: setup
	@command -v chromium >/dev/null || { echo "chromium not found: install it with 'apt-get install chromium'"; exit 1; }
	$(PY) -m pytest -q -rs tests/e2e/test_swagger_ui.py
	@echo "screenshot: $(CURDIR)/.aws-sam/docs-screenshot.png"

# The tenant portal's script and styles (layers/common/hookline/api/portal_assets/, committed), rebuilt from
# portal/package-lock.json: Preact and htm, bundled and minified by esbuild. See docs/portal.md.
portal-assets:
	@command -v npm >/dev/null || { echo "npm not found: install it with 'apt-get install npm'"; exit 1; }
	cd portal && npm ci --no-audit --no-fund --loglevel=error && npm run build

# What the browser tests inject into pages (axe-core), from tests/browser/package-lock.json. Without npm
# the accessibility checks are skipped (CI installs npm, and fails them instead).
browser-deps:
	@if [ tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then :; \
	elif command -v npm >/dev/null; then cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser tests' accessibility checks will be skipped"; fi

# The local stack in the foreground (Ctrl-C stops it). Pass options with ARGS="--port 8080 ...".
dev: $(VENV)/.installed
	$(PY) -m local_stack $(ARGS)

# Starts the local stack, runs the demo against it and exits.
demo: $(VENV)/.installed
	$(PY) -m local_stack.demo $(ARGS)

bench: $(VENV)/.installed
	$(PY) -m bench $(ARGS)

bench-local: $(VENV)/.installed
	$(PY) -m bench.local_stack_bench $(ARGS)

# The proof runs of issue 7 against the local stack (not part of `make test` yet). ARGS=--full for the big run.
chaos: $(VENV)/.installed
	$(PY) -m tests.chaos $(ARGS)

fuzz: $(VENV)/.installed
	$(PY) -m tests.fuzz $(ARGS)

build: $(SAM_VENV)/.installed
	$(SAM_ENV) $(SAM) build --template template.yaml

# The API in a Lambda container (sam local start-api) in front of the local stack's moto, queues and
# pollers; needs Docker. Pass options with ARGS="--port 3000 --invoke-image ...".
sam-local: setup
	$(PY) -m local_stack.sam_local $(ARGS)

# Proves sam local against moto here, offline, in a network namespace of its own (root, docker.io and
# debootstrap); says SKIPPED where no container engine can run.
sam-local-check: setup
	$(PY) -m local_stack.sam_local_check

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
