#!/usr/bin/env bash
# Training benchmarks: the model step (forward, loss, backward, Adam) ours
# (libtorch through tch) vs PyTorch eager on the same network and batch, and
# the data path (read + augment, no model) vs our model step on tiny data.
# Prints `<name>: ours X samples/s, baseline Y samples/s, ratio R (threads T, median of n)`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
T="${THREADS:-2}"; STEPS="${STEPS:-8}"
PY="${PYTHON:-$root/.venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rcic/target}"
# The build environment `make` exports (torch-sys finds libtorch through the venv).
export VIRTUAL_ENV="${VIRTUAL_ENV:-$root/.venv}" LIBTORCH_USE_PYTORCH=1
export PATH="$VIRTUAL_ENV/bin:$PATH"
(cd "$root" && cargo build -q -p rcic-train --example step_bench --bin rcic-train -p rcic-synth -p rcic-preprocess)
ex="$CARGO_TARGET_DIR/debug/examples/step_bench"
for cfg in "densenet-tiny 64" "densenet161 128"; do
  set -- $cfg
  ours=$("$ex" "$1" "$2" 24 "$STEPS" "$T")
  base=$("$PY" "$here/bench/torch_step.py" "$1" "$2" 24 "$STEPS" "$T")
  echo "train step $1@$2: ours $ours samples/s, baseline $base samples/s, ratio $(awk -v a="$ours" -v b="$base" 'BEGIN{printf "%.2f", a/b}') (threads $T, median of $STEPS)"
done
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
bin="$CARGO_TARGET_DIR/debug"
"$bin/rcic-synth" --preset demo --out "$d/demo" --seed 0 --threads "$T" 2>/dev/null
"$bin/rcic-preprocess" --data "$d/demo" --store "$d/art" -q --threads "$T" >/dev/null
dp=$("$bin/rcic-train" --data "$d/demo" --store "$d/art" --bench-data-path --threads "$T" --backbone densenet-tiny --alias none -q | awk '{print $3}')
ms=$("$ex" densenet-tiny 64 24 "$STEPS" "$T")
echo "data path vs model step densenet-tiny@64: ours $dp samples/s, baseline $ms samples/s, ratio $(awk -v a="$dp" -v b="$ms" 'BEGIN{printf "%.2f", a/b}') (threads $T, median of $STEPS)"
