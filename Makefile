# rcic: set-up, build, stages, tests. `make test` works on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
# Cargo's target folder persists across clones on one machine (overridable),
# so CI after a local build is incremental; a new machine builds from scratch.
CARGO_TARGET_DIR ?= $(HOME)/.cache/rcic/target
CARGO ?= cargo
# dev (default: the profile tests use, optimised dependencies) or release.
PROFILE ?= dev
BIN := $(CARGO_TARGET_DIR)/$(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
# The Python wheels: requirements.txt (CPU); a CUDA image passes its own list.
REQUIREMENTS ?= requirements.txt

export CARGO_TARGET_DIR
# torch-sys finds libtorch through the venv's torch (LIBTORCH_USE_PYTORCH),
# which needs the venv's python first on PATH and VIRTUAL_ENV set.
export VIRTUAL_ENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)
export LIBTORCH_USE_PYTORCH := 1
# ONNX Runtime is loaded at run time (ort's load-dynamic) from the venv's wheel.
export ORT_DYLIB_PATH = $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1))

DEPS_STAMP := $(VENV)/.rcic-deps

.PHONY: help deps build test bench device-pack clean-venv env submission preprocess train export predict ensemble data

help:
	@echo "make deps     create .venv with torch==2.11.0 and onnxruntime==1.31.1 (idempotent)"
	@echo "make build    build the workspace (dev profile, shared target folder $(CARGO_TARGET_DIR))"
	@echo "make test     deps + build + every test + make ci"
	@echo "make ci       the pipeline from scratch on the tiny preset, then checks of its submission"
	@echo "make submission [SEEDS=0,1] [PRESET=demo|winner] [DATA=dir] [STORE=artifacts]   the main job"
	@echo "make preprocess | train SEED=n | export SEED=n | predict SEED=n | ensemble SEEDS=...  single stages"
	@echo "make report   the HTML report of the run (training curves, ensemble steps, sample sites)"
	@echo "make bench    benchmarks against peers, one line per comparison"
	@echo "make env      print the environment the binaries are built and run with"
	@echo "make device-pack   stripped binaries in .device/bin for scripts/device-check.sh on a GPU machine"

deps: $(DEPS_STAMP)

$(DEPS_STAMP): $(REQUIREMENTS)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS)
	@$(VENV)/bin/python -c "import torch, onnxruntime; print('torch', torch.__version__, '| onnxruntime', onnxruntime.__version__)"
	@touch $@

env: deps
	@echo "VIRTUAL_ENV=$(VIRTUAL_ENV)"
	@echo "LIBTORCH_USE_PYTORCH=$(LIBTORCH_USE_PYTORCH)"
	@echo "ORT_DYLIB_PATH=$(ORT_DYLIB_PATH)"
	@echo "CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)"

build: deps
	$(CARGO) build --profile $(PROFILE) --workspace --bins --tests

# The binaries scripts/device-check.sh runs on a GPU machine (which brings its
# own PyTorch's libtorch), stripped so that they travel light.
DEVICE_BINS := rcic-synth rcic-preprocess rcic-train rcic-export rcic-predict
device-pack: deps
	$(CARGO) build --profile $(PROFILE) -p rcic-synth -p rcic-preprocess -p rcic-train -p rcic-export -p rcic-predict --bins
	$(CARGO) build --profile $(PROFILE) -p rcic-train --example step_bench
	@rm -rf .device/bin && mkdir -p .device/bin
	@cp $(addprefix $(BIN)/,$(DEVICE_BINS)) $(BIN)/examples/step_bench .device/bin/ && strip .device/bin/*
	@du -sh .device/bin

test: build
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory ci

# Benchmarks print `<name>: ours X, baseline Y, ratio R (threads T, median of n)`.
bench: build
	stages/2-preprocess/bench.sh
	stages/3-train/bench.sh
	stages/6-ensemble/bench.sh
	stages/5-predict/bench.sh
	@d=$$(mktemp -d) && $(CARGO_TARGET_DIR)/debug/rcic-synth --preset demo --out $$d/demo --seed 0 --threads 2 2>&1 | grep generated | sed 's/^/synth demo 64px: /'; rm -rf $$d

clean-venv:
	rm -rf $(VENV)

# ---------------------------------------------------------------------------
# The pipeline: data -> preprocess -> train (per seed) -> export -> predict
# (TTA) -> ensemble -> submission.csv. Without DATA, the preset's synthetic
# dataset is generated (its truth is used only to report test accuracy).
#
# Reuse: every output is sealed (FILE.blake3, rcic-artifact) when its stage
# finishes, and every target below is a seal. Before each run the seals are
# checked: a missing or changed output loses its seal, so make recomputes
# exactly it and what depends on it. Parameters live in small files under
# $(MODELS)/config that are rewritten only when their value changes, so
# changing, say, the ensemble weights reruns the ensemble alone. The
# preprocess stage is content-addressed in the store by itself.
comma := ,
PRESET ?= demo
SEEDS ?= 0,1
SEED ?= 0
STORE ?= artifacts
# Seeds at once (default: as many as seeds, at most one per core) and
# threads per stage process (default: the cores shared among them).
NPROC := $(shell nproc 2>/dev/null || echo 1)
JOBS ?= $(shell n=$(words $(subst $(comma), ,$(SEEDS))); echo $$(( n < $(NPROC) ? n : $(NPROC) )))
THREADS ?= $(shell echo $$(( $(NPROC) / $(JOBS) > 0 ? $(NPROC) / $(JOBS) : 1 )))
# Where predict runs (cpu|cuda; train picks CUDA by itself when present).
# GPUS=0,1,...: seed s trains and predicts on GPU number s mod count
# (CUDA_VISIBLE_DEVICES), so JOBS=n runs n seeds on n GPUs.
GPUS ?=
# Ensemble weights, one per seed (empty: equal).
WEIGHTS ?=
SEED_LIST := $(subst $(comma), ,$(SEEDS))
ifeq ($(PRESET),winner)
DEVICE ?= cuda
# REFERENCE section 10: DenseNet-161, 130 epochs, pseudo-labels from 90, the
# two-cycle cosine schedule, all training experiments (no validation fold).
TRAIN_FLAGS ?= --backbone mem-densenet161 -e 130 --pl-epoch 90 --lr cosine,1.5e-4,90,6e-5,150,0 --pl-size-func 0.6*x+0.4 --cv-number -1
CV ?= -1
TTA ?= 8
ALIAS ?= default
else ifeq ($(PRESET),tiny)
# CI reproduction: a minute on 2 cores; every step still raises accuracy.
SYNTH_FLAGS ?= --seed 0 --difficulty 0.25
TRAIN_FLAGS ?= --backbone densenet-tiny --classes 36 --embedding-size 32 -e 30 --lr cosine,3e-3 --data-normalization experiment --cutmix 0 --cv-number 0
CV ?= 0
TTA ?= 2
ALIAS ?= HUVEC-04=HEPG2-02:1
SYNTH ?= tiny
else ifeq ($(PRESET),demo)
# A small DenseNet and schedule that run on a laptop's CPU, on synthetic
# data whose difficulty is calibrated (README): each step of the ensemble
# raises accuracy and the last reaches >= 0.95 while single models stay < 0.8.
SYNTH_FLAGS ?= --seed 0 --difficulty 0.1
TRAIN_FLAGS ?= --backbone densenet-tiny --classes 108 --embedding-size 256 -e 45 --lr cosine,3e-3 --pl-epoch 30 --pl-size-func 0.6*x+0.4 --cv-number 0 --data-normalization experiment --cutmix 0
CV ?= 0
TTA ?= 8
# The demo dataset's layout alias, as RxRx1's HUVEC-18=RPE-03:1 is RxRx1's.
ALIAS ?= HUVEC-05=RPE-02:1
SYNTH ?= demo
else
$(error PRESET=$(PRESET): expected demo, winner or tiny)
endif
SYNTH_FLAGS ?= --seed 0
DEVICE ?= cpu
ifeq ($(origin DATA),undefined)
DATA := data/$(PRESET)-synthetic
TRUTH ?= $(DATA)-truth/test_truth.csv
GENERATE ?= $(SYNTH)
endif
MODELS := $(STORE)/models/$(PRESET)
CFG := $(MODELS)/config
SUB := $(MODELS)/submission-$(subst $(comma),-,$(SEEDS))
PREDS := $(foreach s,$(SEED_LIST),$(MODELS)/seed$(s)/predictions.parquet)
SEAL := $(BIN)/rcic-artifact seal
# Where `make submission` copies the submission.
OUT ?= submission.csv
RUN := $(strip $(LAUNCH))
# The GPU of seed $*, when GPUS is set.
GPU_OF = $(if $(GPUS),CUDA_VISIBLE_DEVICES=$$(echo $(GPUS) | tr , '\n' | sed -n "$$(( $* % $(words $(subst $(comma), ,$(GPUS))) + 1 ))p"))
# Every seal is named explicitly, so none is an "intermediate" file that make
# would skip when missing or delete after the run.
ALL_SEEDS := $(sort $(SEED_LIST) $(SEED))
SEALS := $(foreach s,$(ALL_SEEDS),$(foreach f,model model.onnx predictions.parquet,$(MODELS)/seed$(s)/$(f).blake3))
$(SEALS):
.PHONY: ci bins pipeline-check FORCE _report _submission _preprocess _train _export _predict _ensemble

# NOBUILD=1 uses the binaries in BIN as they are (the end-to-end tests).
bins: $(if $(NOBUILD),,deps)
	$(if $(NOBUILD),@true,$(CARGO) build --profile $(PROFILE) --workspace --bins)

# What every pipeline goal does first: build, check the seals, then run the
# real goal in a second make (so the check happens before make looks at any
# file). SEEDS run in parallel with JOBS=n.
pipeline-check: bins
	@$(BIN)/rcic-artifact check --missing-ok $(MODELS)

submission preprocess train export predict ensemble report: pipeline-check
	@$(MAKE) --no-print-directory -j$(JOBS) _$@

# Write $(1) with the text $(2) only when it differs (keeps the mtime).
define set_param
@mkdir -p $(dir $(1)) && t=$(1).$$$$.new && printf '%s\n' '$(2)' > $$t && if cmp -s $$t $(1); then rm $$t; else mv $$t $(1); fi
endef

$(CFG)/data: FORCE
ifdef GENERATE
	@if [ ! -f $(DATA)/train.csv ] || [ "$$(cat $(DATA).synth 2>/dev/null)" != '$(SYNTH_FLAGS)' ]; then \
	  echo "generating the $(GENERATE) synthetic dataset in $(DATA) ($(SYNTH_FLAGS))"; \
	  $(BIN)/rcic-synth --preset $(GENERATE) --out $(DATA) --force $(SYNTH_FLAGS) && printf '%s\n' '$(SYNTH_FLAGS)' > $(DATA).synth; fi
else
	@test -f $(DATA)/train.csv || { echo "DATA=$(DATA): no train.csv there (a Kaggle RxRx1 root is expected)" >&2; exit 2; }
endif
	@mkdir -p $(CFG)
	@art=$$($(RUN) $(BIN)/rcic-preprocess --data $(DATA) --store $(STORE) -q --threads $(THREADS)) && test -n "$$art" && \
	  t=$@.$$$$.new && printf '%s\n' "$$art" > $$t && if cmp -s $$t $@; then rm $$t; else mv $$t $@; fi
$(CFG)/train: FORCE
	$(call set_param,$@,$(TRAIN_FLAGS) --alias $(ALIAS))
$(CFG)/predict: FORCE
	$(call set_param,$@,--tta $(TTA) --cv-number $(CV) --alias $(ALIAS) --device $(DEVICE))
$(SUB)/ensemble: FORCE
	$(call set_param,$@,--alias $(ALIAS) -w $(WEIGHTS) --truth $(TRUTH))

$(MODELS)/seed%/model.blake3: $(CFG)/data $(CFG)/train
	@rm -rf $(@D) && mkdir -p $(@D)
	$(GPU_OF) $(RUN) $(BIN)/rcic-train --tensors $$(cat $(CFG)/data) --data $(DATA) --save $(@D)/model --seed $* --threads $(THREADS) --alias $(ALIAS) $(TRAIN_FLAGS) -q
	@$(SEAL) $(@D)/model

$(MODELS)/seed%/model.onnx.blake3: $(MODELS)/seed%/model.blake3
	$(BIN)/rcic-export --load $(@D)/model -o $(@D)/model.onnx
	@$(SEAL) $(@D)/model.onnx

$(MODELS)/seed%/predictions.parquet.blake3: $(MODELS)/seed%/model.onnx.blake3 $(CFG)/predict
	$(GPU_OF) $(RUN) $(BIN)/rcic-predict --model $(@D)/model.onnx --tensors $$(cat $(CFG)/data) --data $(DATA) --tta $(TTA) --cv-number $(CV) --alias $(ALIAS) --device $(DEVICE) --threads $(THREADS) -q -o $(@D)/predictions.parquet
	@$(SEAL) $(@D)/predictions.parquet

$(SUB)/submission.csv.blake3: $(addsuffix .blake3,$(PREDS)) $(SUB)/ensemble
	$(BIN)/rcic-ensemble --data $(DATA) --alias $(ALIAS) $(if $(WEIGHTS),-w $(WEIGHTS)) $(if $(TRUTH),--truth $(TRUTH)) -o $(SUB)/submission.csv $(PREDS)
	@$(SEAL) $(SUB)/submission.csv

_preprocess: $(CFG)/data
	@cat $<
_train: $(MODELS)/seed$(SEED)/model.blake3
	@echo $(MODELS)/seed$(SEED)/model
_export: $(MODELS)/seed$(SEED)/model.onnx.blake3
	@echo $(MODELS)/seed$(SEED)/model.onnx
_predict: $(MODELS)/seed$(SEED)/predictions.parquet.blake3
	@echo $(MODELS)/seed$(SEED)/predictions.parquet
_ensemble: $(SUB)/submission.csv.blake3
	@echo $(SUB)/submission.csv
# One self-contained HTML page of the run: training curves of every seed,
# the ensemble's steps, sample sites as RGB composites (rcic-view renders any
# other site).
SAMPLES ?= 8
$(SUB)/report.html: $(SUB)/submission.csv.blake3
	$(BIN)/rcic-report -o $@ --metrics $(foreach s,$(SEED_LIST),seed$(s)=$(MODELS)/seed$(s)/model.metrics.parquet) \
	  --ensemble $(SUB)/report.json --data $(DATA) --samples $(SAMPLES)
_report: $(SUB)/report.html
	@echo $<

_submission: $(SUB)/submission.csv.blake3 $(SUB)/report.html
	@cp $(SUB)/submission.csv $(OUT)
	@$(BIN)/rcic-report --summary --ensemble $(SUB)/report.json
	@echo "$(OUT) ($(SUB)/submission.csv; reports $(SUB)/report.md, $(SUB)/report.html)"

# CI reproduction: the whole pipeline from scratch on the tiny preset (two
# seeds, a few epochs), then the submission's shape and the accuracy steps.
CI_STORE ?= $(CURDIR)/.ci-store
ci: deps
	@rm -rf $(CI_STORE)
	@$(MAKE) --no-print-directory submission PRESET=tiny SEEDS=0,1 JOBS=2 THREADS=1 STORE=$(CI_STORE) DATA=$(CI_STORE)/tiny GENERATE=tiny TRUTH=$(CI_STORE)/tiny-truth/test_truth.csv OUT=$(CI_STORE)/submission.csv
	$(VENV)/bin/python scripts/check_submission.py --data $(CI_STORE)/tiny --report $(CI_STORE)/models/tiny/submission-0-1/report.json $(CI_STORE)/submission.csv

FORCE:
