# refund-sync. The two commands that matter:
#   make demo   run the whole pipeline on the local sandbox (NetSuite and BigCommerce simulators, AWS on moto)
#   make test   every check: lint, types, template checks, sam build, bandit and checkov, Python tests,
#               SuiteScript lint and Jest
# Both install what they need on a fresh machine (Python 3.13 as on Lambda, or 3.11+; Node 20+; make).

# Lambda runs python3.13: the virtualenv (tests, types, benchmarks) uses the same version, found on PATH
# or in pyenv's versions (layers/find-python.sh); only where none exists, the default python3. sam build
# compiles the layers' bytecode with it too (layers/lambda.mk reads LAMBDA_PYTHON).
export LAMBDA_PYTHON := $(shell sh layers/find-python.sh 3.13)
SYSTEM_PYTHON ?= python3
PYTHON      ?= $(or $(LAMBDA_PYTHON),$(SYSTEM_PYTHON))
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV        := .venv
# The stamp names the Python version, so a virtualenv of another version is rebuilt, never reused.
VENV_STAMP  := $(VENV)/.installed-$(PYTHON_VERSION)
SAM_VENV    := .venv-sam
CHECKOV_VENV := .venv-checkov
PY          := $(VENV)/bin/python
SAM         := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
UV_VERSION  := 0.13.9
CONSTRAINTS := layers/constraints.txt

export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# Neither tests nor the demo may reach a real AWS account.
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing

.DEFAULT_GOAL := help
.PHONY: help demo sandbox test soak lint format typecheck template-checks security build pytest jest bench contract docs lock deploy deploy-guided clean

help:
	@echo "make demo    - sync the sample refunds end to end on the local sandbox"
	@echo "make sandbox - keep the sandbox running, for the refund-sync CLI"
	@echo "make test    - every check (what CI runs)"
	@echo "make bench   - calls per refund, throughput, cold start and cost, in one table"
	@echo "make soak    - fault-injection campaign: 1,000 refunds under faults; zero duplicates, zero lost"
	@echo "make build   - sam build (no Docker needed)"
	@echo "make deploy-guided / make deploy - sam deploy"

# -- environments ---------------------------------------------------------------------------------
NO_LAMBDA_PYTHON := NOTE: no Python 3.13 (the Lambda runtime's) on this machine: the tests run on $(PYTHON) \
	($(PYTHON_VERSION)) and the layers ship no bytecode. Install 3.13 (e.g. pyenv install 3.13) and run make again.

# uv installs in seconds what pip takes a minute over; the versions come from the same constraints.
$(VENV_STAMP): pyproject.toml $(CONSTRAINTS)
	@[ -n "$(LAMBDA_PYTHON)" ] || echo "$(NO_LAMBDA_PYTHON)" >&2
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) -c $(CONSTRAINTS) -e '.[sandbox,dev]'
	@touch $@

# SAM CLI pins many packages of its own, so it lives in its own virtualenv.
$(SAM_VENV)/.installed:
	$(SYSTEM_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(SAM_VENV)/bin/uv pip install --quiet --python $(SAM_VENV)/bin/python aws-sam-cli==$(SAM_VERSION)
	@touch $@

# So does checkov.
$(CHECKOV_VENV)/.installed:
	$(SYSTEM_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(CHECKOV_VENV)/bin/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)
	@touch $@

netsuite/node_modules/.installed: netsuite/package.json netsuite/package-lock.json
	cd netsuite && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# -- the two commands ----------------------------------------------------------------------------
demo: $(VENV_STAMP)
	$(PY) -m refund_sync_sandbox demo

test: lint typecheck template-checks security pytest jest

# 1,000 NetSuite refunds through the real handlers under injected faults (a few minutes); SEED=n replays.
soak: $(VENV_STAMP)
	$(PY) -m refund_sync_sandbox.soak --refunds 1000 --seed $(or $(SEED),7)

# -- checks --------------------------------------------------------------------------------------
lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy layers/shared functions sandbox cli tests benchmarks

template-checks: $(VENV_STAMP) $(SAM_VENV)/.installed
	$(SAM) validate --lint
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) build --no-cached
	$(PY) -m refund_sync.adapters.netsuite.contract | diff -u netsuite/contract/restlet-contract.v1.json - \
		|| (echo "netsuite/contract/restlet-contract.v1.json is stale: run 'make contract'" && exit 1)

# Static security analysis, zero findings: bandit on the Python (skips in pyproject.toml and `# nosec` with
# a reason), checkov on the template (skips with reasons in .checkov.yaml). tests/security does the rest.
# The simulators also skip B311: seeded pseudo-random data is their point, never a secret (as ruff's S311).
security: $(VENV_STAMP) $(CHECKOV_VENV)/.installed
	$(VENV)/bin/bandit -c pyproject.toml -q -r layers/shared functions cli
	$(VENV)/bin/bandit -c pyproject.toml -q -r sandbox --skip B101,B311
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f template.yaml

# tests/packaging lays each function out from the sam build (rebuilding it when stale, with the SAM CLI).
pytest: $(VENV_STAMP) $(SAM_VENV)/.installed
	@[ -n "$(LAMBDA_PYTHON)" ] || echo "$(NO_LAMBDA_PYTHON)" >&2
	$(PY) -m pytest -n 2 --dist loadfile

# The SuiteScript is linted (eslint-plugin-suitescript) before Jest runs it.
jest: netsuite/node_modules/.installed
	cd netsuite && npm run lint --silent && npm test --silent

# One table: BigCommerce calls per refund, throughput against the quota, poller, cold start, cost
# (also in .benchmarks/report.json). It reports; it never fails on a slow machine.
bench: $(VENV_STAMP) $(SAM_VENV)/.installed
	$(PY) -m benchmarks.report

build: $(SAM_VENV)/.installed
	$(SAM) build

# Rewrite the generated section of docs/runbook.md from the engine's table of reasons.
docs: $(VENV_STAMP)
	$(PY) -m refund_sync.runbook docs/runbook.md

# Regenerate the RESTlet contract's JSON Schema from the pydantic models (its one source of truth).
contract: $(VENV_STAMP)
	$(PY) -m refund_sync.adapters.netsuite.contract > netsuite/contract/restlet-contract.v1.json

# Re-pin the Lambda dependencies for python3.13 / arm64 after editing a layers/*/requirements.in: one lock,
# split by layer (layers/lock.py).
lock: $(VENV_STAMP)
	$(PY) layers/lock.py --uv $(VENV)/bin/uv

deploy-guided: build
	$(SAM) deploy --guided

deploy: build
	$(SAM) deploy

sandbox: $(VENV_STAMP)
	$(PY) -m refund_sync_sandbox serve

clean:
	rm -rf .aws-sam .sandbox .mypy_cache .ruff_cache .pytest_cache .hypothesis .benchmarks
