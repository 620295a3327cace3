# rcic: set-up, build, stages, tests. `make test` works on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
# Cargo's target folder persists across clones on one machine (overridable),
# so CI after a local build is incremental; a new machine builds from scratch.
CARGO_TARGET_DIR ?= $(HOME)/.cache/rcic/target
CARGO ?= cargo



export CARGO_TARGET_DIR
# torch-sys finds libtorch through the venv's torch (LIBTORCH_USE_PYTORCH),
# which needs the venv's python first on PATH and VIRTUAL_ENV set.
export VIRTUAL_ENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)
export LIBTORCH_USE_PYTORCH := 1
# ONNX Runtime is loaded at run time (ort's load-dynamic) from the venv's wheel.
export ORT_DYLIB_PATH = $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1))

DEPS_STAMP := $(VENV)/.rcic-deps

.PHONY: help deps build test bench clean-venv env

help:
	@echo "make deps     create .venv with torch==2.11.0 and onnxruntime==1.31.1 (idempotent)"
	@echo "make build    build the workspace (dev profile, shared target folder $(CARGO_TARGET_DIR))"
	@echo "make test     deps + build + every test"
	@echo "make bench    benchmarks against peers, one line per comparison"
	@echo "make env      print the environment the binaries are built and run with"

deps: $(DEPS_STAMP)

$(DEPS_STAMP): requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@$(VENV)/bin/python -c "import torch, onnxruntime; print('torch', torch.__version__, '| onnxruntime', onnxruntime.__version__)"
	@touch $@

env: deps
	@echo "VIRTUAL_ENV=$(VIRTUAL_ENV)"
	@echo "LIBTORCH_USE_PYTORCH=$(LIBTORCH_USE_PYTORCH)"
	@echo "ORT_DYLIB_PATH=$(ORT_DYLIB_PATH)"
	@echo "CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)"

build: deps
	$(CARGO) build --workspace --bins --tests

test: build
	$(CARGO) test --workspace

# Benchmarks print `<name>: ours X, baseline Y, ratio R (threads T, median of n)`.
bench: build
	stages/preprocess/bench.sh
	@d=$$(mktemp -d) && $(CARGO_TARGET_DIR)/debug/rcic-synth --preset demo --out $$d/demo --seed 0 --threads 2 2>&1 | grep generated | sed 's/^/synth demo 64px: /'; rm -rf $$d

clean-venv:
	rm -rf $(VENV)
