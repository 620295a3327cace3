#!/usr/bin/env bash
# rcic-predict benchmark: sites/s with TTA 8 (r = 1), ONNX Runtime CPU (ours,
# the whole stage: reading, normalisation, TTA, inference, writing) vs
# PyTorch eager CPU on the same weights (bench_torch.py: inference and TTA
# only, random inputs), per backbone@size. Same threads, median of RUNS.
#   BENCH="densenet-tiny:64:320 densenet161:128:80" RUNS=3 THREADS=2 stages/5-predict/bench.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=${CARGO_TARGET_DIR:-$HOME/.cache/rcic/target}/debug
PY=${PYTHON:-$root/.venv/bin/python}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
BENCH=${BENCH:-"densenet-tiny:64:320 densenet161:128:80"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for spec in $BENCH; do
  IFS=: read -r bb size sites <<<"$spec"
  d=$work/$bb-$size
  mkdir -p "$d"
  "$T/rcic-synth" --preset tiny --image-size "$size" --out "$d/data" --seed 0 >/dev/null 2>&1
  "$T/rcic-preprocess" --data "$d/data" --store "$d/art" -q >/dev/null
  "$PY" "$here/bench_torch.py" write "$bb" "$d/ck.safetensors" 2
  "$T/rcic-export" --load "$d/ck.safetensors" --backbone "$bb" --classes 1139 --cell-types 2 -o "$d/m.onnx" 2>/dev/null
  # Predict a number of whole (experiment, plate) groups close to $sites (tiny: 40 sites per group).
  total=320; shards=$(( total / sites )); [ "$shards" -lt 1 ] && shards=1
  ours=(); base=()
  for _ in $(seq "$RUNS"); do
    "$T/rcic-predict" --model "$d/m.onnx" --data "$d/data" --store "$d/art" --alias none --cv-number -1 --tta 8 \
      --threads "$THREADS" --shard "0/$shards" -q -o "$d/p.parquet" >/dev/null
    ours+=("$(grep -o '([0-9.]* sites/s)' "$d/p.parquet.log" | tr -d '(' | cut -d' ' -f1)")
    n=$(grep -o 'Predicted [0-9]* sites' "$d/p.parquet.log" | cut -d' ' -f2)
    base+=("$("$PY" "$here/bench_torch.py" run "$bb" "$d/ck.safetensors" "$size" "$n" 24 "$THREADS" 2)")
  done
  o=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${base[@]}" | median)
  echo "predict $bb@$size ($n sites, TTA 8): ours $o sites/s, baseline $b sites/s, ratio $(awk -v o="$o" -v b="$b" 'BEGIN{printf "%.2f", o/b}') (threads $THREADS, median of $RUNS)"
done
