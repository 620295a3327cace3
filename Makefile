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

.PHONY: help deps build test bench clean-venv env submission preprocess train export predict ensemble data

help:
	@echo "make deps     create .venv with torch==2.11.0 and onnxruntime==1.31.1 (idempotent)"
	@echo "make build    build the workspace (dev profile, shared target folder $(CARGO_TARGET_DIR))"
	@echo "make test     deps + build + every test"
	@echo "make submission [SEEDS=0,1] [PRESET=demo|winner] [DATA=dir] [STORE=artifacts]   the main job"
	@echo "make preprocess | train SEED=n | export SEED=n | predict SEED=n | ensemble SEEDS=...  single stages"
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
	stages/train/bench.sh
	stages/ensemble/bench.sh
	stages/predict/bench.sh
	@d=$$(mktemp -d) && $(CARGO_TARGET_DIR)/debug/rcic-synth --preset demo --out $$d/demo --seed 0 --threads 2 2>&1 | grep generated | sed 's/^/synth demo 64px: /'; rm -rf $$d

clean-venv:
	rm -rf $(VENV)

# ---------------------------------------------------------------------------
# The pipeline: data -> preprocess -> train (per seed) -> export -> predict
# (TTA 8) -> ensemble -> submission.csv. Without DATA, the `demo` synthetic
# dataset is generated (its truth is used only to report test accuracy).
comma := ,
PRESET ?= demo
SEEDS ?= 0,1
SEED ?= 0
STORE ?= artifacts
BIN := $(CARGO_TARGET_DIR)/debug
SEED_LIST := $(subst $(comma), ,$(SEEDS))
ifeq ($(PRESET),winner)
TRAIN_FLAGS ?= --backbone mem-densenet161 -e 130 --pl-epoch 90 --lr cosine,1.5e-4,90,6e-5,150,0 --pl-size-func 0.6*x+0.4 --cv-number -1
CV ?= -1
ALIAS ?= default
else
# demo: a small DenseNet and schedule that run on a laptop's CPU.
TRAIN_FLAGS ?= --backbone densenet-tiny --classes 108 --embedding-size 256 -e 12 --lr cosine,2e-3 --pl-epoch 8 --pl-size-func 0.6*x+0.4 --cv-number 0
CV ?= 0
# The demo dataset's layout alias, as RxRx1's HUVEC-18=RPE-03:1 is RxRx1's.
ALIAS ?= HUVEC-05=RPE-02:1
endif
ifeq ($(origin DATA),undefined)
DATA := data/$(PRESET)-synthetic
TRUTH := data/$(PRESET)-synthetic-truth/test_truth.csv
GENERATE := 1
endif
MODELS := $(STORE)/models/$(PRESET)
# Keep every stage output (make would delete intermediate files of the chain).
.SECONDARY:
RUN := $(strip $(LAUNCH))

data: build
ifdef GENERATE
	@test -f $(DATA)/train.csv || $(BIN)/rcic-synth --preset demo --out $(DATA) --seed 0
endif

preprocess: data
	$(RUN) $(BIN)/rcic-preprocess --data $(DATA) --store $(STORE)

$(MODELS)/seed%/model: | preprocess
	$(RUN) $(BIN)/rcic-train --data $(DATA) --store $(STORE) --save $@ --seed $* --alias $(ALIAS) $(TRAIN_FLAGS) -q

$(MODELS)/seed%/model.onnx: $(MODELS)/seed%/model
	$(BIN)/rcic-export --load $< -o $@

$(MODELS)/seed%/predictions.parquet: $(MODELS)/seed%/model.onnx
	$(RUN) $(BIN)/rcic-predict --model $< --data $(DATA) --store $(STORE) --tta 8 --cv-number $(CV) --alias $(ALIAS) -o $@

train: $(MODELS)/seed$(SEED)/model
	@echo $<
export: $(MODELS)/seed$(SEED)/model.onnx
	@echo $<
predict: $(MODELS)/seed$(SEED)/predictions.parquet
	@echo $<

ensemble: $(foreach s,$(SEED_LIST),$(MODELS)/seed$(s)/predictions.parquet)
	$(BIN)/rcic-ensemble --data $(DATA) --alias $(ALIAS) $(if $(TRUTH),--truth $(TRUTH)) -o $(MODELS)/submission-$(subst $(comma),-,$(SEEDS))/submission.csv $^
	@cp $(MODELS)/submission-$(subst $(comma),-,$(SEEDS))/submission.csv submission.csv
	@echo submission.csv

submission: ensemble
