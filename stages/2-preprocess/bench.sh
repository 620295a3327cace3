#!/usr/bin/env bash
# Preprocess and reader benchmarks on synthetic 512 px sites, against a
# Python OpenCV cv2.imread decode-only baseline of the 6 PNGs per site.
# Prints one line per comparison (single thread and all threads):
#   preprocess: ours X sites/s, baseline Y sites/s, ratio R (threads T, median of n)
#   reader: ours X sites/s, baseline Y sites/s, ratio R (threads T, median of n)
# Env: SITES (default 96), RUNS (default 3), THREADS (default: nproc),
# BENCH_DIR (default: a temporary folder, removed at exit), PYTHON (default:
# the project venv's), CARGO_TARGET_DIR (default ~/.cache/rcic/target).
# Needs numpy and opencv-python-headless in the venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SITES="${SITES:-96}"
RUNS="${RUNS:-3}"
THREADS="${THREADS:-$(nproc)}"
PYTHON="${PYTHON:-$root/.venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rcic/target}"

if [[ -z "${BENCH_DIR:-}" ]]; then
  BENCH_DIR="$(mktemp -d)"
  trap 'rm -rf "$BENCH_DIR"' EXIT
fi
(cd "$root" && cargo build -q -p rcic-preprocess --bin rcic-preprocess --example read_bench)
bin="$CARGO_TARGET_DIR/debug/rcic-preprocess"
reader="$CARGO_TARGET_DIR/debug/examples/read_bench"
data="$BENCH_DIR/data"
[[ -f "$data/test.csv" ]] || "$PYTHON" "$here/bench/make_data.py" "$data" "$SITES" 512
sites=$(($(wc -l < "$data/test.csv") * 2 - 2))

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

for t in $(printf '%s\n' 1 "$THREADS" | sort -un); do
  # ours: the whole stage (index, dataset key, validation, decode, stats, zstd, write), fresh output each run.
  "$bin" --data "$data" -o "$BENCH_DIR/warm" --threads "$t" -q > /dev/null
  ours=$(for i in $(seq "$RUNS"); do
    rm -rf "$BENCH_DIR/out"
    s=$(date +%s.%N)
    "$bin" --data "$data" -o "$BENCH_DIR/out" --threads "$t" -q > /dev/null
    e=$(date +%s.%N)
    awk -v n="$sites" -v s="$s" -v e="$e" 'BEGIN {printf "%.2f\n", n / (e - s)}'
  done | median)
  base=$("$PYTHON" "$here/bench/cv2_decode.py" "$data" "$t" "$RUNS")
  echo "preprocess: ours $ours sites/s, baseline $base sites/s, ratio $(ratio "$ours" "$base") (threads $t, median of $RUNS)"
  rd=$("$reader" "$BENCH_DIR/warm" "$t" "$RUNS" 2>/dev/null)
  echo "reader: ours $rd sites/s, baseline $base sites/s, ratio $(ratio "$rd" "$base") (threads $t, median of $RUNS)"
done
