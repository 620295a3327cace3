#!/usr/bin/env bash
# The Slurm chain for real (`make slurm-test`; needs root): a single-node
# cluster on this machine (scripts/slurm/local-cluster.sh), the tiny preset's
# data, make's submission for seeds 0,1 as the reference, then
# scripts/slurm/submit.sh with the same data and seeds on the CPU
# (--cpus-per-task=1 --mem=2G --gres=none). While seed 0 trains, its task is
# requeued (scontrol requeue) once an epoch is complete, as a preempted or
# failed node would; the task must continue from its last complete epoch by
# itself, and the chain's submission must equal make's byte for byte.
# SLURM_TEST_DIR keeps the run's files (default: a temporary folder).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
WORK=${SLURM_TEST_DIR:-$(mktemp -d /tmp/rcic-slurm-test.XXXXXX)}
mkdir -p "$WORK"
export PROFILE=${PROFILE:-dev}
SEEDS=0,1
say() { echo "slurm-test: $*"; }
fail() { echo "slurm-test: FAILED: $*" >&2; exit 1; }
t0=$(date +%s)

scripts/slurm/local-cluster.sh start
say "reference: make submission PRESET=tiny SEEDS=$SEEDS"
make -s --no-print-directory submission PRESET=tiny SEEDS=$SEEDS QUIET=1 GENERATE=yes \
    DATA="$WORK/tiny" STORE="$WORK/make-store" OUT="$WORK/make-submission.csv" >/dev/null

say "submitting the chain"
export DATA=$WORK/tiny STORE=$WORK/slurm-store PRESET=tiny SEEDS DEVICE=cpu
export PREPROCESS_SHARDS=2 PREDICT_SHARDS=2 RUN_DIR=$WORK/slurm-store/slurm/tiny
scripts/slurm/submit.sh --cpus-per-task=1 --mem=2G --gres=none
run=$RUN_DIR

# Requeue seed 0's training task once its second epoch is complete.
requeued=
for _ in $(seq 1800); do
    if [[ -z $requeued && -f $run/seed0/model.1.state ]]; then
        task=$(squeue -h -n rcic-train -t RUNNING -o '%i' | grep '_0$' | head -1 || true)
        if [[ -n $task ]]; then
            scontrol requeue "$task"
            requeued=$task
            say "requeued training task $task after epoch 1"
        fi
    fi
    [[ -z $(squeue -h -o '%i') ]] && break
    sleep 1
done
[[ -z $(squeue -h -o '%i') ]] || fail "jobs still queued after 30 minutes: $(squeue -h)"
[[ -n $requeued ]] || fail "seed 0's training finished before it could be requeued"

sub=$run/submission-${SEEDS//,/-}/submission.csv
[[ -f $sub ]] || fail "no $sub; job logs in $run/logs: $(tail -n 5 "$run"/logs/*.out 2>/dev/null | tail -n 20)"
# The requeued task's job log (Slurm rewrites it on requeue) says where it
# resumed; its model.log keeps both runs.
resumed=$(grep -ho 'resuming after epoch [0-9]*' "$run"/logs/rcic-train-*_0.out | head -1 || true)
[[ -n $resumed ]] || fail "seed 0's requeued task did not resume ($run/logs/rcic-train-*_0.out)"
grep -q "Resumed optimizer state" "$run/seed0/model.log" ||
    fail "seed 0's model.log does not show the resumed optimizer state"
cmp "$sub" "$WORK/make-submission.csv" || fail "the chain's submission differs from make's"
say "passed in $(($(date +%s) - t0)) s: the chain's submission equals make's byte for byte; $requeued ${resumed}"
