# shellcheck shell=bash
# Set-up shared by the rcic Slurm jobs (sourced by every *.sbatch here).
#
# Inputs (environment; submit.sh exports them and passes --export=ALL):
#   RCIC_REPO          the rcic checkout, built with `make build PROFILE=release
#                      REQUIREMENTS=requirements-gpu.txt` (required)
#   DATA               the Kaggle RxRx1 root (required; absolute path)
#   STORE              artifact store (default: artifacts, inside RCIC_REPO)
#   PRESET             demo, tiny or winner (default: winner): every stage
#                      reads its section of presets/PRESET.toml (--config)
#   SEEDS              comma-separated training seeds (default: 0,1)
#   PREPROCESS_SHARDS  preprocess array size N (default: 8)
#   PREDICT_SHARDS     predict shards per seed (default: 4)
#   RUN_DIR            where models, shard lists and the submission go
#                      (default: STORE/slurm/PRESET)
#   DEVICE             --device of rcic-train and rcic-predict (default: cuda;
#                      cpu runs the chain without GPUs, e.g. to try it out)
#   TRAIN_FLAGS, EXPORT_FLAGS, PREDICT_FLAGS, ENSEMBLE_FLAGS
#                      extra flags of one stage, overriding the preset's
#                      entries they name (as in the Makefile)
#   CV, ALIAS, TTA, WEIGHTS, TRUTH
#                      single overrides, as in the Makefile
#   PROFILE, VENV, CARGO_TARGET_DIR   as in the Makefile
# Variables set here are used by the scripts that source this file.
# shellcheck disable=SC2034
set -euo pipefail

: "${RCIC_REPO:?set RCIC_REPO to the rcic checkout (submit.sh does)}"
cd "$RCIC_REPO"
: "${DATA:?set DATA to the Kaggle RxRx1 root (train.csv, test.csv, train/, test/)}"
STORE=${STORE:-artifacts}
PRESET=${PRESET:-winner}
SEEDS=${SEEDS:-0,1}
PROFILE=${PROFILE:-release}
PREPROCESS_SHARDS=${PREPROCESS_SHARDS:-8}
PREDICT_SHARDS=${PREDICT_SHARDS:-4}
RUN_DIR=${RUN_DIR:-$STORE/slurm/$PRESET}
DEVICE=${DEVICE:-cuda}
# Worker threads: the CPUs Slurm gave the task (0: all cores).
THREADS=${SLURM_CPUS_PER_TASK:-0}
export DATA STORE PRESET SEEDS PROFILE

# One variable of the Makefile, for this PRESET (environment overrides apply
# as they do for `make`), so that the jobs run the same flags as `make
# submission`.
rcic_make_var() {
    # The single quotes are make syntax, expanded by make.
    # shellcheck disable=SC2016
    make -s --no-print-directory --eval 'rcic-print-%: ; @printf "%s\n" "$($*)"' "rcic-print-$1"
}

BIN=$(rcic_make_var BIN)
for b in rcic-preprocess rcic-train rcic-export rcic-predict rcic-ensemble; do
    [[ -x $BIN/$b ]] || {
        echo "$BIN/$b is missing: build first (make build PROFILE=$PROFILE REQUIREMENTS=requirements-gpu.txt)" >&2
        exit 2
    }
done
# ONNX Runtime for rcic-predict (the venv's wheel), as the Makefile exports it.
ORT_DYLIB_PATH=$(rcic_make_var ORT_DYLIB_PATH)
export ORT_DYLIB_PATH
# ONNX Runtime's CUDA provider has no rpath: let it find the CUDA 13 and cuDNN
# libraries that torch's nvidia-* wheels put in the venv.
VENV=$(rcic_make_var VENV)
for d in "$VENV"/lib/python3*/site-packages/nvidia/cudnn/lib "$VENV"/lib/python3*/site-packages/nvidia/cu13/lib; do
    if [[ -d $d ]]; then LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; fi
done
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}

# The preset every stage reads, and the overrides of the Makefile's
# variables of the same names (words, never globbed: they may hold 0.6*x+0.4).
PRESET_FILE=$RCIC_REPO/presets/$PRESET.toml
[[ -f $PRESET_FILE ]] || { echo "PRESET=$PRESET: no $PRESET_FILE" >&2; exit 2; }
CONFIG=(--config "$PRESET_FILE")
COMMON=(${CV:+--cv-number "$CV"} ${ALIAS:+--alias "$ALIAS"})
read -r -a TRAIN_ARGS <<<"${TRAIN_FLAGS:-}"
TRAIN_ARGS=("${CONFIG[@]}" "${COMMON[@]}" --device "$DEVICE" "${TRAIN_ARGS[@]}")
read -r -a EXPORT_ARGS <<<"${EXPORT_FLAGS:-}"
EXPORT_ARGS=("${CONFIG[@]}" "${EXPORT_ARGS[@]}")
read -r -a PREDICT_ARGS <<<"${PREDICT_FLAGS:-}"
PREDICT_ARGS=("${CONFIG[@]}" "${COMMON[@]}" ${TTA:+--tta "$TTA"} --device "$DEVICE" "${PREDICT_ARGS[@]}")
read -r -a ENSEMBLE_ARGS <<<"${ENSEMBLE_FLAGS:-}"
ENSEMBLE_ARGS=("${CONFIG[@]}" ${ALIAS:+--alias "$ALIAS"} "${ENSEMBLE_ARGS[@]}")
IFS=, read -r -a SEED_LIST <<<"$SEEDS"

mkdir -p "$RUN_DIR"

# The preprocess artifact folder the merge job published.
rcic_tensors() {
    local f=$RUN_DIR/tensors
    [[ -s $f ]] || { echo "$f is missing: run preprocess.sbatch and preprocess-merge.sbatch first" >&2; exit 2; }
    cat "$f"
}

# The Slurm array index (0 outside an array, for a run by hand).
rcic_task() {
    echo "${SLURM_ARRAY_TASK_ID:-0}"
}

rcic_log() {
    echo "[$(date '+%F %T')] ${SLURM_JOB_NAME:-rcic}${SLURM_ARRAY_TASK_ID:+[$SLURM_ARRAY_TASK_ID]}: $*" >&2
}
