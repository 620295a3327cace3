#!/usr/bin/env bash
# Submits the rcic pipeline to Slurm as a chain of jobs, each starting when
# the one before has succeeded (--dependency=afterok; on an array job: when
# every task has):
#
#   preprocess (array, PREPROCESS_SHARDS tasks) -> preprocess-merge
#   -> train (array, one GPU per seed; exports ONNX) -> predict (array, one GPU
#   per (seed, shard)) -> predict-merge -> ensemble
#
# Usage (from anywhere; the rcic checkout must be built first with
# `make build PROFILE=release REQUIREMENTS=requirements-gpu.txt`):
#
#   DATA=/path/to/rxrx1 STORE=/path/to/store SEEDS=0,1 scripts/slurm/submit.sh [SBATCH_OPTION...]
#
# Options after the script name go to every sbatch call (e.g. --partition=gpu
# --account=...). Variables: see scripts/slurm/common.sh. Job logs go to
# LOG_DIR (default RUN_DIR/logs); the submission to
# RUN_DIR/submission-<seeds>/submission.csv.
set -euo pipefail

RCIC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${DATA:?set DATA to the Kaggle RxRx1 root}"
# The jobs run in RCIC_REPO: make the paths absolute here.
DATA=$(realpath -m "$DATA")
STORE=$(realpath -m "${STORE:-$RCIC_REPO/artifacts}")
PRESET=${PRESET:-winner}
SEEDS=${SEEDS:-0,1}
PREPROCESS_SHARDS=${PREPROCESS_SHARDS:-8}
PREDICT_SHARDS=${PREDICT_SHARDS:-4}
RUN_DIR=$(realpath -m "${RUN_DIR:-$STORE/slurm/$PRESET}")
LOG_DIR=$(realpath -m "${LOG_DIR:-$RUN_DIR/logs}")
export RCIC_REPO DATA STORE PRESET SEEDS PREPROCESS_SHARDS PREDICT_SHARDS RUN_DIR

[[ -f $DATA/train.csv || -f $DATA/metadata.csv ]] || { echo "DATA=$DATA: neither train.csv (the competition layout) nor metadata.csv (the public release) there; an RxRx1 root is expected" >&2; exit 2; }
IFS=, read -r -a seeds <<<"$SEEDS"
n_seeds=${#seeds[@]}
((n_seeds > 0 && PREPROCESS_SHARDS > 0 && PREDICT_SHARDS > 0)) || { echo "SEEDS, PREPROCESS_SHARDS and PREDICT_SHARDS must be non-empty and positive" >&2; exit 2; }
mkdir -p "$LOG_DIR"

here=$RCIC_REPO/scripts/slurm
# submit NAME DEPENDENCY ARRAY: prints the job id.
submit() {
    local name=$1 dep=$2 array=$3 args=(--parsable --export=ALL --chdir "$RCIC_REPO")
    if [[ -n $array ]]; then
        args+=(--array "$array" --output "$LOG_DIR/%x-%A_%a.out")
    else
        args+=(--output "$LOG_DIR/%x-%j.out")
    fi
    if [[ -n $dep ]]; then args+=(--dependency "afterok:$dep" --kill-on-invalid-dep=yes); fi
    local id
    id=$(sbatch "${args[@]}" "${EXTRA[@]}" "$here/$name.sbatch")
    echo "${id%%;*}"
}
EXTRA=("$@")

pp=$(submit preprocess "" "0-$((PREPROCESS_SHARDS - 1))")
ppm=$(submit preprocess-merge "$pp" "")
tr=$(submit train "$ppm" "0-$((n_seeds - 1))")
pr=$(submit predict "$tr" "0-$((n_seeds * PREDICT_SHARDS - 1))")
prm=$(submit predict-merge "$pr" "")
en=$(submit ensemble "$prm" "")
cat <<MSG
submitted: preprocess $pp, preprocess-merge $ppm, train $tr, predict $pr, predict-merge $prm, ensemble $en
logs: $LOG_DIR
submission: $RUN_DIR/submission-${SEEDS//,/-}/submission.csv
MSG
