# rcic: set-up, build, stages, tests. `make test` works on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# A preset that predicts on CUDA (or DEVICE=cuda) is a GPU run: its own venv
# with ONNX Runtime's CUDA build (requirements-cuda.txt), optimised
# binaries, one seed per GPU, and a device check before any work. CUDA=1
# asks for the same by hand (`make deps CUDA=1`).
PRESET ?= demo
PRESET_FILE := presets/$(PRESET).toml
CUDA ?= $(if $(filter cuda,$(DEVICE)),1,$(if $(DEVICE),,$(shell grep -qs '^device = "cuda"' $(PRESET_FILE) && echo 1)))
VENV ?= $(CURDIR)/$(if $(CUDA),.venv-cuda,.venv)
# Cargo's target folder persists across clones on one machine (overridable),
# so CI after a local build is incremental; a new machine builds from scratch.
CARGO_TARGET_DIR ?= $(HOME)/.cache/rcic/target
CARGO ?= cargo
# dev (default: the profile tests use, optimised dependencies) or release
# (the default of GPU runs).
PROFILE ?= $(if $(CUDA),release,dev)
BIN := $(CARGO_TARGET_DIR)/$(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
# The Python wheels: requirements.txt (CPU, with the test oracles) or
# requirements-cuda.txt (GPU runs).
REQUIREMENTS ?= $(if $(CUDA),requirements-cuda.txt,requirements.txt)

export CARGO_TARGET_DIR
# torch-sys finds libtorch through the venv's torch (LIBTORCH_USE_PYTORCH),
# which needs the venv's python first on PATH and VIRTUAL_ENV set.
export VIRTUAL_ENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)
export LIBTORCH_USE_PYTORCH := 1
# ONNX Runtime is loaded at run time (ort's load-dynamic) from the venv's
# wheel, of the version requirements.txt pins (the one place it is written).
ORT_VERSION := $(shell sed -n 's/^onnxruntime==//p' requirements.txt)
export ORT_DYLIB_PATH = $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.$(ORT_VERSION)))

DEPS_STAMP := $(VENV)/.rcic-deps
# The heavy stages (preprocess, train, predict) show their log and one
# progress line on stderr: live on a terminal, a plain line every
# RCIC_PROGRESS_SECS seconds (default 30) in a file or pipe (Slurm logs).
# QUIET=1 leaves warnings only.
QUIET ?=
STAGE_Q := $(if $(filter-out 0,$(QUIET)),-q)

.PHONY: help deps build test bench device-pack clean-venv clean clean-cache clean-store plan env submission preprocess train export predict ensemble data

help:
	@echo "make deps     create .venv with the wheels of $(REQUIREMENTS) (torch, onnxruntime; idempotent)"
	@echo "make build    build the workspace (dev profile, shared target folder $(CARGO_TARGET_DIR))"
	@echo "make test     deps + build + every test + make ci"
	@echo "make ci       the pipeline from scratch on the tiny preset, then checks of its submission"
	@echo "make submission [SEEDS=0,1] [PRESET=demo|winner] [DATA=dir] [STORE=artifacts]   the main job"
	@echo "make preprocess | train SEED=n | export SEED=n | predict SEED=n | ensemble SEEDS=...  single stages"
	@echo "make report   the HTML report of the run (training curves, ensemble steps, sample sites)"
	@echo "make plan     what make submission would run now, and why (missing output, changed data or parameter)"
	@echo "make clean    the clone's venvs, generated data, CI store | clean-store [DELETE=1] unused store entries | clean-cache the shared cargo target folder"
	@echo "make weights [PRESET=winner]   fetch the preset's ImageNet weights into the weights cache (PRETRAINED=FILE: use yours)"
	@echo "make slurm-test  the Slurm chain on a local single-node cluster (root; installs slurm-wlm), compared with make's submission"
	@echo "make rehearsal   the winner orchestration end to end on the CPU on generated data of RxRx1's full structure (scripts/rehearsal.sh)"
	@echo "make bench    benchmarks against peers, one line per comparison"
	@echo "QUIET=1       the heavy stages without their log and progress lines (warnings only)"
	@echo "make env      print the environment the binaries are built and run with"
	@echo "make device-pack   stripped binaries in .device/bin for scripts/device-check.sh on a GPU machine"

deps: $(DEPS_STAMP)

$(DEPS_STAMP): $(REQUIREMENTS)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir -r $(REQUIREMENTS)
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
	stages/2-preprocess/key-bench.sh
	stages/3-train/bench.sh
	stages/6-ensemble/bench.sh
	COMPRESSION=predict stages/6-ensemble/bench.sh
	stages/5-predict/bench.sh
	@d=$$(mktemp -d) && $(CARGO_TARGET_DIR)/debug/rcic-synth --preset demo --out $$d/demo --seed 0 --threads 2 2>&1 | grep generated | sed 's/^/synth demo 64px: /'; rm -rf $$d

clean-venv:
	rm -rf $(VENV)

# The clone's own outputs: venvs, the device pack, the CI store, generated
# data and the copied submission (not the artifact store: clean-store; not
# the shared cargo target folder: clean-cache).
clean:
	rm -rf $(CURDIR)/.venv $(CURDIR)/.venv-cuda .device $(CI_STORE) data/*-synthetic data/*-synthetic-truth data/*-synthetic.synth data/rehearsal submission.csv

# The shared cargo target folder, used by every clone on this machine.
clean-cache:
	rm -rf $(CARGO_TARGET_DIR)

# Store entries no pipeline output refers to, listed; DELETE=1 removes them.
clean-store:
	@scripts/clean-store.sh $(STORE) $(DELETE)

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
SEEDS ?= 0,1
SEED ?= 0
STORE ?= artifacts
# Seeds at once (default: as many as seeds, at most one per core) and
# threads per stage process (default: the cores shared among them).
NPROC := $(shell nproc 2>/dev/null || echo 1)
# GPU runs: every GPU of the machine unless GPUS names some, and seeds at
# once only as far as there are GPUs (one seed per GPU).
ifneq ($(CUDA),)
GPUS ?= $(shell nvidia-smi -L 2>/dev/null | awk '/^GPU/ {printf "%s%d", (n++ ? "," : ""), n - 1}')
SLOTS := $(words $(subst $(comma), ,$(GPUS)))
else
SLOTS := $(NPROC)
endif
JOBS ?= $(shell n=$(words $(subst $(comma), ,$(SEEDS))); s=$(SLOTS); [ "$$s" -gt 0 ] || s=1; echo $$(( n < s ? n : s )))
THREADS ?= $(shell echo $$(( $(NPROC) / $(JOBS) > 0 ? $(NPROC) / $(JOBS) : 1 )))
# GPUS=0,1,...: seed s trains and predicts on GPU number s mod count
# (CUDA_VISIBLE_DEVICES), so JOBS=n runs n seeds on n GPUs.
GPUS ?=
# Ensemble weights, one per seed (empty: equal).
WEIGHTS ?=
SEED_LIST := $(subst $(comma), ,$(SEEDS))
# Presets are data: presets/PRESET.toml holds every stage's parameters, one
# section per stage (data-schemas/presets.md); each stage reads its section
# with --config. The variables below add to a preset, entry by entry:
# STAGE_FLAGS (SYNTH_FLAGS, TRAIN_FLAGS, EXPORT_FLAGS, PREDICT_FLAGS,
# ENSEMBLE_FLAGS) are extra flags of one stage, overriding the entries they
# name; CV and ALIAS override --cv-number and --alias of every stage that
# has them, DEVICE those of train and predict, TTA the predict stage's.
ifeq ($(wildcard $(PRESET_FILE)),)
$(error PRESET=$(PRESET): no $(PRESET_FILE); expected one of $(basename $(notdir $(wildcard presets/*.toml))))
endif
CONFIG := --config $(PRESET_FILE)
COMMON_FLAGS = $(if $(CV),--cv-number $(CV)) $(if $(ALIAS),--alias $(ALIAS))
# PRETRAINED=FILE: ImageNet weights you already have, instead of the cached
# download that a preset's `pretrained = "imagenet"` asks for (make weights).
TRAIN_ARGS = $(CONFIG) $(COMMON_FLAGS) $(if $(DEVICE),--device $(DEVICE)) $(if $(PRETRAINED),--pretrained $(PRETRAINED)) $(TRAIN_FLAGS)
EXPORT_ARGS = $(CONFIG) $(EXPORT_FLAGS)
PREDICT_ARGS = $(CONFIG) $(COMMON_FLAGS) $(if $(TTA),--tta $(TTA)) $(if $(DEVICE),--device $(DEVICE)) $(PREDICT_FLAGS)
ENSEMBLE_ARGS = $(CONFIG) $(if $(ALIAS),--alias $(ALIAS)) $(if $(WEIGHTS),-w $(WEIGHTS)) $(ENSEMBLE_FLAGS)
SYNTH_ARGS = $(CONFIG) $(SYNTH_FLAGS)
# A preset with a [synth] section generates its data when DATA is not given.
# (GENERATE=yes generates into a given DATA, as `make ci` does.)
SYNTHETIC_PRESET := $(shell grep -q '^\[synth\]' $(PRESET_FILE) && echo yes)
ifeq ($(origin DATA),undefined)
ifneq ($(SYNTHETIC_PRESET),)
DATA := data/$(PRESET)-synthetic
TRUTH ?= $(DATA)-truth/test_truth.csv
GENERATE := yes
else
DATA_MISSING := PRESET=$(PRESET) has no generated data ($(PRESET_FILE) has no [synth] section): give DATA=DIR, an RxRx1 root
endif
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
.PHONY: ci rehearsal rehearsal-bin slurm-test bins pipeline-check weights FORCE _report _submission _preprocess _train _export _predict _ensemble

# NOBUILD=1 uses the binaries in BIN as they are (the end-to-end tests).
bins: $(if $(NOBUILD),,deps)
	$(if $(NOBUILD),@true,$(CARGO) build --profile $(PROFILE) --workspace --bins)

# What every pipeline goal does first: build, check the seals, then run the
# real goal in a second make (so the check happens before make looks at any
# file). SEEDS run in parallel with JOBS=n.
pipeline-check: bins
	@$(BIN)/rcic-artifact check --missing-ok $(MODELS)
	@$(if $(DATA_MISSING),{ echo "$(DATA_MISSING)" >&2; exit 2; })
	@$(if $(and $(SYNTHETIC_PRESET),$(DATA),$(if $(GENERATE),,yes)),test -f $(DATA)-truth/truth.json || { echo "PRESET=$(PRESET) is made for the data it generates ($(PRESET_FILE) [synth]); DATA=$(DATA) was not generated by rcic-synth (no $(DATA)-truth/truth.json beside it). For RxRx1 use PRESET=winner." >&2; exit 2; })
	@$(if $(CUDA),$(BIN)/rcic-predict --device cuda --check-device || { echo "PRESET=$(PRESET) runs on CUDA: this machine or venv ($(VENV)) cannot; make deps CUDA=1 on a GPU machine (README: GPU machines)" >&2; exit 2; })
	@$(DISK_STEP)
	@$(WEIGHTS_STEP) -q >/dev/null

# What the run will write (data generated, preprocess artifact, each seed's
# checkpoints, ONNX model and logits) against the free space of the file
# systems it goes to, printed in any case; too little stops the run before
# any work (scripts/disk_check.py). DISK_CHECK=0 skips it.
DISK_CHECK ?= 1
DISK_STEP = $(if $(filter 0,$(DISK_CHECK)),true,$(PYTHON) scripts/disk_check.py --bin $(BIN) --store $(STORE) --data $(DATA) --out $(OUT) \
	  --models $(MODELS) --seeds $(SEEDS) --generate '$(GENERATE)' --synth '$(BIN)/rcic-synth $(SYNTH_ARGS)' \
	  --train '$(BIN)/rcic-train $(TRAIN_ARGS) --print-config' --export '$(BIN)/rcic-export $(EXPORT_ARGS) --print-config' \
	  --preprocess '$(BIN)/rcic-preprocess $(CONFIG) --print-config')

# The ImageNet weights the training configuration asks for (--pretrained
# imagenet), fetched into the weights cache (RCIC_WEIGHTS_DIR, default
# ~/.cache/rcic/weights) and verified; a file given with PRETRAINED is
# checked. Nothing to do for presets without --pretrained.
WEIGHTS_STEP = set -o pipefail; $(BIN)/rcic-train $(TRAIN_ARGS) --print-config | $(BIN)/rcic-weights --train-config -
weights: bins
	@$(WEIGHTS_STEP)

# What `make submission` would run, and why, without running anything.
plan: bins
	@$(if $(DATA_MISSING),{ echo "$(DATA_MISSING)" >&2; exit 2; })
	@scripts/plan.sh $(BIN) $(STORE) $(DATA) $(MODELS) $(SUB) $(SEEDS) \
	  '$(BIN)/rcic-train $(TRAIN_ARGS) --print-config' '$(BIN)/rcic-export $(EXPORT_ARGS) --print-config' \
	  '$(BIN)/rcic-predict $(PREDICT_ARGS) --print-config' '$(BIN)/rcic-ensemble $(ENSEMBLE_ARGS) --print-config; echo '"'"'truth = "$(TRUTH)"'"'"''

submission preprocess train export predict ensemble report: pipeline-check
	@$(MAKE) --no-print-directory -j$(JOBS) _$@

# Write $(1) with the output of the command $(2) only when it differs (keeps
# the mtime). The stamps of the stages are their resolved configuration
# (`--print-config`: the preset's section, the overrides, the defaults).
define set_stamp
@mkdir -p $(dir $(1)) && t=$(1).$$$$.new && { $(2); } > $$t || { rm -f $$t; exit 1; }; if cmp -s $$t $(1); then rm $$t; else mv $$t $(1); fi
endef

$(CFG)/data: FORCE
ifdef GENERATE
	@want=$$($(BIN)/rcic-synth $(SYNTH_ARGS) --print-config) && \
	if [ ! -f $(DATA)/train.csv ] || [ "$$(cat $(DATA).synth 2>/dev/null)" != "$$want" ]; then \
	  echo "generating synthetic data in $(DATA) ($(PRESET_FILE) [synth] $(SYNTH_FLAGS))"; \
	  $(BIN)/rcic-synth $(SYNTH_ARGS) --out $(DATA) --force && printf '%s\n' "$$want" > $(DATA).synth; fi
else
	@$(if $(DATA_MISSING),{ echo "$(DATA_MISSING)" >&2; exit 2; })
	@test -f $(DATA)/train.csv || test -f $(DATA)/metadata.csv || { echo "DATA=$(DATA): neither train.csv (the competition's layout) nor metadata.csv (the public release's) there; an RxRx1 root is expected" >&2; exit 2; }
endif
	@mkdir -p $(CFG)
	@art=$$($(RUN) $(BIN)/rcic-preprocess $(CONFIG) --data $(DATA) --store $(STORE) $(STAGE_Q) --threads $(THREADS)) && test -n "$$art" && \
	  t=$@.$$$$.new && printf '%s\n' "$$art" > $$t && if cmp -s $$t $@; then rm $$t; else mv $$t $@; fi
$(CFG)/train: FORCE
	$(call set_stamp,$@,$(BIN)/rcic-train $(TRAIN_ARGS) --print-config)
$(CFG)/export: FORCE
	$(call set_stamp,$@,$(BIN)/rcic-export $(EXPORT_ARGS) --print-config)
$(CFG)/predict: FORCE
	$(call set_stamp,$@,$(BIN)/rcic-predict $(PREDICT_ARGS) --print-config)
$(SUB)/ensemble: FORCE
	$(call set_stamp,$@,$(BIN)/rcic-ensemble $(ENSEMBLE_ARGS) --print-config; echo 'truth = "$(TRUTH)"')

# A seed's folder that holds an interrupted run of the same parameters
# (resume.key: the training configuration, the tensors, the seed) continues
# from its last complete epoch (rcic-train --resume); any other starts afresh.
$(MODELS)/seed%/model.blake3: $(CFG)/data $(CFG)/train
	@key="$$(cat $(CFG)/train $(CFG)/data; echo seed=$*)"; if [ "$$(cat $(@D)/resume.key 2>/dev/null)" != "$$key" ]; then \
	  rm -rf $(@D) && mkdir -p $(@D) && printf '%s\n' "$$key" > $(@D)/resume.key; fi
	$(GPU_OF) $(RUN) $(BIN)/rcic-train $(TRAIN_ARGS) --tensors $$(cat $(CFG)/data) --data $(DATA) --save $(@D)/model --seed $* --threads $(THREADS) --resume $(STAGE_Q)
	@$(SEAL) $(@D)/model

$(MODELS)/seed%/model.onnx.blake3: $(MODELS)/seed%/model.blake3 $(CFG)/export
	$(BIN)/rcic-export $(EXPORT_ARGS) --load $(@D)/model -o $(@D)/model.onnx
	@$(SEAL) $(@D)/model.onnx

$(MODELS)/seed%/predictions.parquet.blake3: $(MODELS)/seed%/model.onnx.blake3 $(CFG)/predict
	$(GPU_OF) $(RUN) $(BIN)/rcic-predict $(PREDICT_ARGS) --model $(@D)/model.onnx --tensors $$(cat $(CFG)/data) --data $(DATA) --threads $(THREADS) $(STAGE_Q) -o $(@D)/predictions.parquet
	@$(SEAL) $(@D)/predictions.parquet

$(SUB)/submission.csv.blake3: $(addsuffix .blake3,$(PREDS)) $(SUB)/ensemble
	$(BIN)/rcic-ensemble $(ENSEMBLE_ARGS) --data $(DATA) $(if $(TRUTH),--truth $(TRUTH)) -o $(SUB)/submission.csv $(PREDS)
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
$(SUB)/report.html: $(SUB)/submission.csv.blake3
	$(BIN)/rcic-report $(CONFIG) $(if $(SAMPLES),--samples $(SAMPLES)) -o $@ --metrics $(foreach s,$(SEED_LIST),seed$(s)=$(MODELS)/seed$(s)/model.metrics.parquet) \
	  --ensemble $(SUB)/report.json --data $(DATA)
_report: $(SUB)/report.html
	@echo $<

_submission: $(SUB)/submission.csv.blake3 $(SUB)/report.html
	@cp $(SUB)/submission.csv $(OUT)
	@$(BIN)/rcic-report --summary --ensemble $(SUB)/report.json
	@echo "$(OUT) ($(SUB)/submission.csv; reports $(SUB)/report.md, $(SUB)/report.html)"

# The full-structure rehearsal of the winner preset on the CPU
# (scripts/rehearsal.sh; its own target, not part of make test).
rehearsal: bins
	@MAKE="$(MAKE)" MAKE_ARGS="$(if $(NOBUILD),NOBUILD=1)" VENV=$(VENV) scripts/rehearsal.sh
rehearsal-bin:
	@echo $(BIN)

# The Slurm chain for real on a single-node cluster of this machine, its
# submission compared with make's and a training task requeued mid-run
# (scripts/slurm/cluster-test.sh; needs root and Debian's slurm-wlm, which
# it installs; its own target, not part of make test).
slurm-test: bins
	@PROFILE=$(PROFILE) scripts/slurm/cluster-test.sh

# CI reproduction: the whole pipeline from scratch on the tiny preset (two
# seeds, a few epochs), then the submission's shape and the accuracy steps.
CI_STORE ?= $(CURDIR)/.ci-store
ci: deps
	@rm -rf $(CI_STORE)
	@$(MAKE) --no-print-directory submission PRESET=tiny SEEDS=0,1 JOBS=2 THREADS=1 STORE=$(CI_STORE) DATA=$(CI_STORE)/tiny GENERATE=yes TRUTH=$(CI_STORE)/tiny-truth/test_truth.csv OUT=$(CI_STORE)/submission.csv
	$(VENV)/bin/python scripts/check_submission.py --data $(CI_STORE)/tiny --report $(CI_STORE)/models/tiny/submission-0-1/report.json $(CI_STORE)/submission.csv

FORCE:
