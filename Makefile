# One entry point for everything a developer does. Each target is a thin call into code.
SHELL := /bin/bash
PY_VERSION ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export MEDCHAIN_HOME ?= $(CURDIR)/.medchain

.PHONY: install lint typecheck protos protos-check test test-unit test-integration test-e2e \
        demo clean network-up network-down network-clean network-status chaincode-deploy \
        chaincode-test bench bench-quick k8s-validate

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PY_VERSION) >/dev/null || { echo "error: $(PY_VERSION) not found; MedChain needs Python 3.11" >&2; exit 1; }
	@test -x $(PY) || $(PY_VERSION) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check services tests bench
	$(VENV)/bin/ruff format --check services tests bench
	chaincode/lint.sh

typecheck: install
	$(VENV)/bin/mypy services/medchain tests bench
	cd chaincode && go vet ./...

protos: install
	$(PY) -m medchain.devtools.protos generate

protos-check: install
	$(PY) -m medchain.devtools.protos check

test-unit: install
	$(PY) -m medchain.devtools.testrun unit

# Build every k8s overlay with kustomize and validate it offline (docs/adr/0006-offline-k8s-validation.md).
k8s-validate: install
	$(PY) -m medchain.devtools.k8s_validate

chaincode-test:
	cd chaincode && go test ./...

test: install protos-check k8s-validate
	$(PY) -m medchain.devtools.testrun all

network-up: install
	$(VENV)/bin/medchain network up
network-down: install
	$(VENV)/bin/medchain network down
network-clean: install
	$(VENV)/bin/medchain network clean
network-status: install
	$(VENV)/bin/medchain network status
chaincode-deploy: install
	$(VENV)/bin/medchain network deploy-chaincode

demo: install
	$(VENV)/bin/medchain demo

bench: install
	$(PY) -m bench.run full
bench-quick: install
	$(PY) -m bench.run quick

clean:
	-test -x $(VENV)/bin/medchain && $(VENV)/bin/medchain down
	-test -x $(VENV)/bin/medchain && $(VENV)/bin/medchain network clean
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist services/*.egg-info chaincode/bin
