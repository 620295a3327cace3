#!/usr/bin/env bash
# make rehearsal: the `winner` orchestration end to end on the CPU, on
# generated data with RxRx1's full structure (rcic-synth --preset rxrx1: all
# 51 experiments, 1108 siRNAs + 31 controls, 308 wells per plate, HUVEC-18's
# layout alias, both sites) at a reduced image size, with a CPU-sized network
# and schedule: `make submission PRESET=winner` with overrides only, every one
# printed before the run. Nothing in the stages knows it is a rehearsal. The
# backbone is a small torchvision one, started from a weights file in
# torchvision's format that the rehearsal writes with the venv's torchvision
# (random weights; it cannot carry torchvision's published file name, whose
# hash the weights check verifies) and passes as PRETRAINED, so the ImageNet
# path of the train stage runs. The submission of the 18 test experiments is
# then checked by scripts/check_submission.py.
#
#   make rehearsal                    # defaults below
#   REHEARSAL_SIZE=24 REHEARSAL_EPOCHS=2 make rehearsal
#
# Knobs (environment): REHEARSAL_DIR (data, store and submission; default
# data/rehearsal), REHEARSAL_SIZE (px, 16), REHEARSAL_BACKBONE (resnet18, the
# smallest torchvision backbone the train stage offers), REHEARSAL_EPOCHS (1),
# REHEARSAL_BATCH (256), REHEARSAL_PL_SIZE (the pseudo-labelled fraction of the
# test wells, 0.1*x+0.1), REHEARSAL_SEEDS (0), REHEARSAL_SYNTH_SEED (0).
# MAKE_ARGS are passed to make as they are (e.g. NOBUILD=1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MAKE=${MAKE:-make}
DIR=${REHEARSAL_DIR:-data/rehearsal}
SIZE=${REHEARSAL_SIZE:-16}
BACKBONE=${REHEARSAL_BACKBONE:-resnet18}
EPOCHS=${REHEARSAL_EPOCHS:-1}
BATCH=${REHEARSAL_BATCH:-256}
PL_SIZE=${REHEARSAL_PL_SIZE:-0.1*x+0.1}
SEEDS=${REHEARSAL_SEEDS:-0}
SYNTH_SEED=${REHEARSAL_SYNTH_SEED:-0}
PY=${VENV:-$root/.venv}/bin/python
read -r -a make_args <<<"${MAKE_ARGS:-}"
# The binaries of the make configuration in use (make's own BIN).
BIN=$($MAKE --no-print-directory -s "${make_args[@]}" rehearsal-bin)
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
DATA=$DIR/rxrx1-$SIZE
TRUTH=$DIR/rxrx1-$SIZE-truth/test_truth.csv
STORE=$DIR/store
OUT=$DIR/submission.csv
start=$(date +%s)
t() { echo "$(( $(date +%s) - start )) s"; }

# 1. The data: rcic-synth's rxrx1 preset at SIZE px, generated once (its
# parameters kept beside it; other parameters regenerate).
synth=(--preset rxrx1 --image-size "$SIZE" --seed "$SYNTH_SEED")
want=$("$BIN/rcic-synth" "${synth[@]}" --out "$DATA" --print-config)
if [ ! -f "$DATA/train.csv" ] || [ "$(cat "$DATA.synth" 2>/dev/null)" != "$want" ]; then
  echo "rehearsal: generating RxRx1's full structure at $SIZE px in $DATA (rcic-synth ${synth[*]})"
  "$BIN/rcic-synth" "${synth[@]}" --out "$DATA" --force -q
  printf '%s\n' "$want" >"$DATA.synth"
  echo "rehearsal: data generated after $(t) ($(du -sh "$DATA" | cut -f1), $(find "$DATA" -name '*.png' | wc -l) PNGs)"
else
  echo "rehearsal: reusing $DATA"
fi

# 2. The weights: torchvision's state dict of BACKBONE as torchvision saves
# its published files (torch.save, zip format), random weights.
WEIGHTS=$DIR/$BACKBONE-random-weights.pth
if [ ! -f "$WEIGHTS" ]; then
  "$PY" - "$BACKBONE" "$WEIGHTS" <<'EOF'
import sys, torch, torchvision
name, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = getattr(torchvision.models, name)(weights=None)
torch.save(model.state_dict(), out + ".tmp")
import os; os.replace(out + ".tmp", out)
print(f"rehearsal: wrote {out} (torchvision {torchvision.__version__} {name}, random weights)")
EOF
fi

# 3. The winner preset with the rehearsal's overrides.
overrides=(
  "DATA=$DATA"
  "TRUTH=$TRUTH"
  "STORE=$STORE"
  "OUT=$OUT"
  "SEEDS=$SEEDS"
  "DEVICE=cpu"
  "PRETRAINED=$WEIGHTS"
  "TRAIN_FLAGS=--backbone $BACKBONE -e $EPOCHS --pl-epoch $((EPOCHS - 1)) --pl-size-func $PL_SIZE --lr cosine,1e-3 -b $BATCH --gradient-accumulation 1 --keep-epochs $((EPOCHS - 1))"
  "EXPORT_FLAGS=--fp16 false"
  "PREDICT_FLAGS=--fp16 false"
)
echo "rehearsal: make submission PRESET=winner with these overrides of presets/winner.toml:"
printf '  %s\n' "${overrides[@]}"
$MAKE --no-print-directory "${make_args[@]}" submission PRESET=winner "${overrides[@]}"
echo "rehearsal: make submission done after $(t)"

# 4. The submission's check.
sub=$STORE/models/winner/submission-${SEEDS//,/-}
"$PY" scripts/check_submission.py --data "$DATA" --report "$sub/report.json" "$OUT"
echo "rehearsal: $(($(tail -n +2 "$OUT" | wc -l))) wells of $(tail -n +2 "$DATA/test.csv" | cut -d, -f2 | sort -u | wc -l) test experiments in $OUT; wall time $(t)"
