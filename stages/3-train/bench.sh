#!/usr/bin/env bash
# Training benchmarks, with the binaries of cargo profile PROFILE (default
# release, what real runs use):
# - the model step (forward, loss, backward, Adam) ours (libtorch through
#   tch) vs PyTorch eager on the same network and batch;
# - the data path (read + augment + normalise, no model) vs our model step on
#   the demo data (densenet-tiny@64);
# - at RxRx1's size (512 px synthetic sites): the data path
#   (`rcic-train --bench-data-path`) vs the original's training sample
#   replicated op for op (bench/getitem.py: six cv2 PNG decodes, flips, zoom,
#   to_tensor, normalisation, pixel-wise affine), each process pinned to 1
#   and then 2 cores (taskset), with our per-sample time split; then the
#   DenseNet-161@512 model step on the CPU (batch BATCH512, default 2) and
#   the ratio data path / model step.
# Prints `<name>: ours X samples/s, baseline Y samples/s, ratio R (threads T, median of n)`.
# Env: PROFILE, THREADS (2), STEPS (8), RUNS (3), SITES512 (192, the
# baseline's sites per run), BATCH512 (2), STEPS512 (3), BENCH_DIR (a
# temporary folder, removed at exit; an existing one keeps its 512 px data),
# ONLY512 (set: the 512 px part alone).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
T="${THREADS:-2}"; STEPS="${STEPS:-8}"; RUNS="${RUNS:-3}"
PROFILE="${PROFILE:-release}"
PY="${PYTHON:-$root/.venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rcic/target}"
# The build environment `make` exports (torch-sys finds libtorch through the venv).
export VIRTUAL_ENV="${VIRTUAL_ENV:-$root/.venv}" LIBTORCH_USE_PYTORCH=1
export PATH="$VIRTUAL_ENV/bin:$PATH"
(cd "$root" && cargo build -q --profile "$PROFILE" -p rcic-train -p rcic-synth -p rcic-preprocess --bins --example step_bench)
bin="$CARGO_TARGET_DIR/$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")"
ex="$bin/examples/step_bench"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
if [[ -z "${BENCH_DIR:-}" ]]; then
  BENCH_DIR="$(mktemp -d)"; trap 'rm -rf "$BENCH_DIR"' EXIT
fi
d="$BENCH_DIR"

if [[ -z "${ONLY512:-}" ]]; then
for cfg in "densenet-tiny 64" "densenet161 128"; do
  set -- $cfg
  ours=$("$ex" "$1" "$2" 24 "$STEPS" "$T")
  base=$("$PY" "$here/bench/torch_step.py" "$1" "$2" 24 "$STEPS" "$T")
  echo "train step $1@$2: ours $ours samples/s, baseline $base samples/s, ratio $(ratio "$ours" "$base") (threads $T, median of $STEPS)"
done

rm -rf "$d/demo" "$d/art"
"$bin/rcic-synth" --preset demo --out "$d/demo" --seed 0 --threads "$T" 2>/dev/null
"$bin/rcic-preprocess" --data "$d/demo" --store "$d/art" -q --threads "$T" >/dev/null
dp=$("$bin/rcic-train" --data "$d/demo" --store "$d/art" --bench-data-path --threads "$T" --backbone densenet-tiny --alias none -q | awk 'NR==1 {print $3}')
ms=$("$ex" densenet-tiny 64 24 "$STEPS" "$T")
echo "data path vs model step densenet-tiny@64: ours $dp samples/s, baseline $ms samples/s, ratio $(ratio "$dp" "$ms") (threads $T, median of $STEPS)"
fi

# RxRx1's size: the tiny preset's layout (768 sites) at 512 px.
if [[ ! -f "$d/s512/train.csv" ]]; then
  rm -rf "$d/s512" "$d/s512-truth" "$d/art512"
  "$bin/rcic-synth" --preset tiny --image-size 512 --out "$d/s512" --seed 0 --threads "$T" -q
fi
"$bin/rcic-preprocess" --data "$d/s512" --store "$d/art512" -q --threads "$T" >/dev/null
train512() { taskset -c "$1" "$bin/rcic-train" --data "$d/s512" --store "$d/art512" --bench-data-path --threads "$2" --backbone densenet-tiny --alias none -q; }
cores() { [[ "$1" == 1 ]] && echo 0 || echo "0-$(($1 - 1))"; }
dp512=""
for t in $(printf '%s\n' 1 "$T" | sort -un); do
  c=$(cores "$t")
  train512 "$c" "$t" > "$d/split.txt"  # warm-up (page cache)
  ours=$(for i in $(seq "$RUNS"); do train512 "$c" "$t" | tee -a "$d/split.txt" | awk 'NR==1 {print $3}'; done | median)
  base=$(taskset -c "$c" "$PY" "$here/bench/getitem.py" "$d/s512" "$t" "$RUNS" "${SITES512:-192}")
  echo "train data path 512px vs original __getitem__: ours $ours samples/s, baseline $base samples/s, ratio $(ratio "$ours" "$base") (threads $t, median of $RUNS)"
  dp512="$ours"
done
grep '^per sample' "$d/split.txt" | tail -1 | sed 's/^/train data path 512px, /'
B="${BATCH512:-2}"; S5="${STEPS512:-3}"
ms512=$("$ex" densenet161 512 "$B" "$S5" "$T")
echo "data path vs model step densenet161@512 (CPU, batch $B): ours $dp512 samples/s, baseline $ms512 samples/s, ratio $(ratio "$dp512" "$ms512") (threads $T, median of $S5)"
