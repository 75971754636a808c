# rudder — build, demo, test, bench.
# `make demo` and `make test` are the two set-up commands of a fresh Debian machine with Rust.

SHELL := /bin/bash
CARGO ?= cargo
VENV ?= $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
RUDDER_CORPUS ?= $(abspath $(CURDIR)/../shared/corpus)
export RUDDER_PYTHON := $(PYTHON)
export RUDDER_CORPUS

.PHONY: all build demo test test-deps venv debs fmt clippy unit e2e conformance bench clean real-cluster real-build test-real

all: build

build:
	$(CARGO) build --release

# Python venv holding the judges: Helm 4's Go SDK (helm-python-sdk) and Kubernetes OpenAPI schemas.
venv: $(VENV)/.stamp
$(VENV)/.stamp: scripts/requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
	touch $@

# Debian packages the tests need (kubectl and docker-registry when missing).
debs:
	@if ! command -v kubectl >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client; \
	fi
	@# openssl judges the keys and certificates of Sprig's genCA/genPrivateKey (crates/sprig/src/crypto).
	@if ! command -v openssl >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl; \
	fi
	@# The CNCF distribution registry, started on loopback by the OCI tests (tests/repo_oci.rs).
	@if [ ! -x /usr/bin/docker-registry ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry; \
	fi

test-deps: venv debs

demo: build
	bash scripts/demo.sh

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

# real-build first: tests/real_helm.rs runs the real helm binary on the sandbox tier too.
test: test-deps real-build fmt clippy
	$(CARGO) test --lib --bins --tests -- --test-threads=4
	@if [ -d "$(RUDDER_CORPUS)" ]; then $(MAKE) conformance; else echo "corpus not found at $(RUDDER_CORPUS): skipping conformance"; fi
	$(MAKE) test-real

# The real tier: the release suites again, against a real Kubernetes control plane built from Go
# modules (cached under ~/.cache/rudder/real-cluster). See docs/real-cluster.md.
test-real:
	bash scripts/test-real.sh

real-build:
	bash scripts/real-cluster.sh build

# A real cluster in the foreground for a person: Ctrl-C stops it and removes its data.
real-cluster:
	bash scripts/real-cluster.sh run --kubeconfig $(CURDIR)/real-cluster.kubeconfig

conformance:
	@if [ -x scripts/conformance.sh ]; then bash scripts/conformance.sh; else echo "conformance runner not present yet"; fi

bench: build
	@if [ -x scripts/bench.sh ]; then bash scripts/bench.sh; else echo "no benchmarks yet"; fi

clean:
	$(CARGO) clean
	rm -rf $(VENV)
