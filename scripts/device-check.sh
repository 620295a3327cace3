#!/usr/bin/env bash
# The GPU checks of the train and predict stages in one short run, for a
# machine with CUDA: binaries built elsewhere (`make device-pack` puts them,
# stripped, in .device/bin), libtorch from that machine's PyTorch (torch
# 2.11.0, what tch 0.24 is built for) and, when it has onnxruntime-gpu, its
# ONNX Runtime. Every step is timed and bounded; a failing step is reported
# and the next one runs. Figures go to $OUT/device-check.txt, the logs and
# the tch/ONNX Runtime predictions beside it.
#
#   scripts/device-check.sh                         # on the GPU machine
#   DEVICE=cpu SIZE=64 BACKBONE=densenet-tiny scripts/device-check.sh   # rehearsal
#
# Steps: tiny data (64 px) trained 1 epoch on the device in fp32, fp16 and
# bf16; the model step alone (examples/step_bench) of BACKBONE@SIZE batch
# BATCH in fp32/fp16/bf16; tiny data at SIZE px trained 1 epoch with
# BACKBONE in fp32 and fp16; that checkpoint predicted (TTA 8, all test and
# validation sites) by --engine tch in fp32 and fp16, and by ONNX Runtime's
# CUDA execution provider (fp32 and fp16 graphs) when it is there.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/.device/bin}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-512}
BATCH=${BATCH:-24}
STEPS=${STEPS:-10}
BACKBONE=${BACKBONE:-densenet161}
STEP_LIMIT=${STEP_LIMIT:-240}
# The whole run stops starting steps after DEADLINE seconds (the device's time is short).
DEADLINE=${DEADLINE:-280}
PY=${PYTHON:-python3}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report=$OUT/device-check.txt
: >"$report"
say() { echo "$*" | tee -a "$report"; }
# step NAME CMD...: runs CMD bounded by STEP_LIMIT, its output in $OUT/NAME.out.
step() {
  local name=$1; shift
  local t0=$SECONDS rc left=$((DEADLINE - SECONDS))
  if [ "$left" -le 0 ]; then say "SKIP $name (past the ${DEADLINE} s deadline)"; return 124; fi
  [ "$left" -gt "$STEP_LIMIT" ] && left=$STEP_LIMIT
  timeout "$left" "$@" >"$OUT/$name.out" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then say "ok   $name ($((SECONDS - t0)) s)"
  else say "FAIL $name (exit $rc after $((SECONDS - t0)) s): $(tail -n 3 "$OUT/$name.out" | tr '\n' ' ')"; fi
  return "$rc"
}
# The "speed" of a training log's epoch 0 and its model-step figure.
train_speed() {
  local l=$1
  echo "$(grep -o 'Train: epoch 0 .*' "$l" | tail -1) | $(grep -o 'model step [0-9.]* samples/s' "$l" | tail -1)"
}
sites_per_s() { grep -o '([0-9.]* sites/s)' "$1" | tr -d '(' | cut -d' ' -f1 | tail -1; }

for b in rcic-synth rcic-preprocess rcic-train rcic-export rcic-predict step_bench; do
  [ -x "$BIN/$b" ] || { echo "device-check: $BIN/$b is missing; run \`make device-pack\` first" >&2; exit 2; }
done
torch_lib=$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null) || {
  echo "device-check: $PY cannot import torch (its libtorch is what the binaries load)" >&2; exit 2; }
export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
say "device-check $(date -u +%FT%TZ) device=$DEVICE size=$SIZE batch=$BATCH backbone=$BACKBONE"
say "torch: $("$PY" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' 2>&1)"
command -v nvidia-smi >/dev/null && say "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
# ONNX Runtime of that machine's Python: its library, and whether it has the CUDA provider.
read -r ort_lib ort_cuda < <("$PY" -c '
import os, onnxruntime as o
p = os.path.join(os.path.dirname(o.__file__), "capi", "libonnxruntime.so." + o.__version__)
print(p if os.path.exists(p) else "-", "CUDAExecutionProvider" in o.get_available_providers())' 2>/dev/null || echo "- False")
[ "$ort_lib" != - ] && export ORT_DYLIB_PATH=$ort_lib
say "onnxruntime: ${ORT_DYLIB_PATH:-none} (CUDA provider: $ort_cuda)"

# 1. One epoch of tiny (64 px, densenet-tiny) on the device per precision.
step synth-tiny "$BIN/rcic-synth" --preset tiny --out "$work/tiny" --seed 0
step prep-tiny "$BIN/rcic-preprocess" --data "$work/tiny" --store "$work/art" -q
for p in fp32 fp16 bf16; do
  case $p in fp32) f=(--fp16 false) ;; fp16) f=(--fp16 true) ;; bf16) f=(--bf16) ;; esac
  step "train-tiny-$p" "$BIN/rcic-train" --data "$work/tiny" --store "$work/art" --device "$DEVICE" "${f[@]}" \
    --backbone densenet-tiny --classes 36 --embedding-size 64 -e 1 -b 16 --seed 0 --alias none -q --save "$work/tiny-$p/model" &&
    say "     $(train_speed "$work/tiny-$p/model.log") | $(grep -o 'Epoch 0 val acc: [0-9.]*' "$work/tiny-$p/model.log") | $(grep -c 'step skipped' "$work/tiny-$p/model.log") skipped steps"
  cp "$work/tiny-$p/model.log" "$OUT/train-tiny-$p.log" 2>/dev/null
done

# 2. The model step alone, BACKBONE@SIZE batch BATCH, median of STEPS.
for p in fp32 fp16 bf16; do
  step "step-$p" env DEVICE="$DEVICE" PRECISION="$p" "$BIN/step_bench" "$BACKBONE" "$SIZE" "$BATCH" "$STEPS" "$(nproc)" &&
    say "     model step $BACKBONE@$SIZE b$BATCH $p: $(tail -n 1 "$OUT/step-$p.out") samples/s"
done

# 3. One epoch of tiny at SIZE px with BACKBONE, fp32 and fp16 (the whole trainer: data path included).
step synth-big "$BIN/rcic-synth" --preset tiny --image-size "$SIZE" --out "$work/big" --seed 0
step prep-big "$BIN/rcic-preprocess" --data "$work/big" --store "$work/art" -q
for p in fp32 fp16; do
  step "train-big-$p" "$BIN/rcic-train" --data "$work/big" --store "$work/art" --device "$DEVICE" --fp16 "$([ $p = fp16 ] && echo true || echo false)" \
    --backbone "$BACKBONE" --classes 36 -e 1 -b "$BATCH" --seed 0 --alias none -q --save "$work/big-$p/model" &&
    say "     $BACKBONE@$SIZE b$BATCH $p: $(train_speed "$work/big-$p/model.log")"
  cp "$work/big-$p/model.log" "$OUT/train-big-$p.log" 2>/dev/null
done

# 4. Predict the fp16-trained checkpoint: tch engine fp32 vs fp16, then ONNX Runtime CUDA.
ck=$work/big-fp16/model
for p in fp32 fp16; do
  h=(); [ "$p" = fp16 ] && h=(--fp16)
  step "predict-tch-$p" "$BIN/rcic-predict" --engine tch --load "$ck" --data "$work/big" --store "$work/art" --alias none \
    --device "$DEVICE" "${h[@]}" --tta 8 -b "$BATCH" -q -o "$OUT/pred-tch-$p.parquet" &&
    say "     predict tch $p TTA 8: $(sites_per_s "$OUT/pred-tch-$p.parquet.log") sites/s"
done
step export-fp32 "$BIN/rcic-export" --load "$ck" -o "$work/m32.onnx"
if [ "$ort_cuda" = True ] || [ "$DEVICE" = cpu ]; then
  step export-fp16 "$BIN/rcic-export" --load "$ck" --fp16 -o "$work/m16.onnx"
  for p in fp32 fp16; do
    h=(); [ "$p" = fp16 ] && h=(--fp16)
    step "predict-ort-$p" "$BIN/rcic-predict" --model "$work/m${p#fp}.onnx" --data "$work/big" --store "$work/art" --alias none \
      --device "$DEVICE" "${h[@]}" --tta 8 -b "$BATCH" -q -o "$OUT/pred-ort-$p.parquet" &&
      say "     predict ort $p TTA 8: $(sites_per_s "$OUT/pred-ort-$p.parquet.log") sites/s"
  done
else
  # No CUDA provider: --device cuda must fail with a clear error, not run on the CPU.
  if step predict-ort-no-cuda "$BIN/rcic-predict" --model "$work/m32.onnx" --data "$work/big" --store "$work/art" --alias none \
    --device cuda -q -o "$work/x.parquet"; then say "     wrong: it ran without a CUDA provider"
  else say "     (expected) $(grep -v '^\s*$' "$OUT/predict-ort-no-cuda.out" | tail -n 1)"; fi
fi
# How far the engines and precisions agree (when this Python has pyarrow and numpy).
"$PY" - "$OUT" <<'PY' 2>/dev/null | tee -a "$report" || say "(no pyarrow/numpy here: compare the pred-*.parquet files elsewhere)"
import os, sys
import numpy as np, pyarrow.parquet as pq
d = sys.argv[1]
def load(n):
    p = os.path.join(d, f"pred-{n}.parquet")
    if not os.path.exists(p):
        return None
    t = pq.read_table(p).sort_by([("split", "ascending"), ("id_code", "ascending"), ("site", "ascending")])
    return np.stack(t.column("logits").to_numpy(zero_copy_only=False))
ref = load("tch-fp32")
for n in ("tch-fp16", "ort-fp32", "ort-fp16"):
    x = load(n)
    if ref is not None and x is not None:
        print(f"     max |logits {n} - tch-fp32| = {np.abs(x - ref).max():.3g}, argmax agreement {np.mean(x.argmax(1) == ref.argmax(1)):.4f}")
PY
say "done in $SECONDS s"
