#!/usr/bin/env bash
# Preprocess and reader benchmarks on synthetic 512 px sites, against a
# Python OpenCV cv2.imread decode-only baseline of the 6 PNGs per site, with
# the binaries real runs use (PROFILE, default release). Prints, at 1 thread
# and at THREADS:
#   preprocess: ours X sites/s, baseline Y sites/s, ratio R (threads T, median of n, PROFILE; ...)
#   preprocess first run: ours X sites/s, baseline Y sites/s, ratio R (...)
#   preprocess per megapixel: ours X ms/MP, baseline Y ms/MP, ratio R (...; time, lower is faster)
#   preprocess decode only: ours X ms/MP, baseline Y ms/MP, ratio R (...)
#   preprocess split (threads T): thread-seconds of read, decode, statistics, encode+zstd, write
#   reader: ours X sites/s, baseline Y sites/s, ratio R (threads T, median of n)
# "ours" is the whole stage (index, dataset key, validation, decode,
# statistics, zstd, write) with the dataset key taken from the store's hash
# cache, so it times packing, as every run after the first on the same data
# does; "first run" also reads and hashes every PNG for the key (-o, no
# cache); "decode only" is its file read and PNG decode
# thread-seconds per megapixel (from the -v time split of one more run) against cv2's
# (its wall time times its threads, all of them decoding). The synthetic
# PNGs compress worse than RxRx1's (the first line gives KB per image; the
# real release averages about 61 KB), so compare per megapixel with care.
# Env: SITES (default 96), RUNS (default 3), THREADS (default: nproc),
# PROFILE (default release; dev for the debug build), BENCH_DIR (default: a
# temporary folder, removed at exit), PYTHON (default: the project venv's),
# CARGO_TARGET_DIR (default ~/.cache/rcic/target).
# Needs numpy and opencv-python-headless in the venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SITES="${SITES:-96}"
RUNS="${RUNS:-3}"
THREADS="${THREADS:-$(nproc)}"
PROFILE="${PROFILE:-release}"
PYTHON="${PYTHON:-$root/.venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rcic/target}"

if [[ -z "${BENCH_DIR:-}" ]]; then
  BENCH_DIR="$(mktemp -d)"
  trap 'rm -rf "$BENCH_DIR"' EXIT
fi
(cd "$root" && cargo build -q --profile "$PROFILE" -p rcic-preprocess --bin rcic-preprocess --example read_bench)
out_dir="$CARGO_TARGET_DIR/$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")"
bin="$out_dir/rcic-preprocess"
reader="$out_dir/examples/read_bench"
data="$BENCH_DIR/data"
size=512
[[ -f "$data/test.csv" ]] || "$PYTHON" "$here/bench/make_data.py" "$data" "$SITES" "$size"
sites=$(($(wc -l < "$data/test.csv") * 2 - 2))
mp=$(awk -v n="$sites" -v s="$size" 'BEGIN {print n * 6 * s * s / 1e6}')
kb=$(du -sk --apparent-size "$data/test" | awk -v n="$sites" '{printf "%.1f", $1 / (n * 6)}')
echo "data: $sites sites of 6 ${size}x${size} PNGs, $kb KB per image, $mp megapixels ($PROFILE binaries)"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# ms per megapixel from sites/s.
ms_mp() { awk -v r="$1" -v s="$size" 'BEGIN {printf "%.2f", 1000 / (r * 6 * s * s / 1e6)}'; }

# Sites/s of one run of ours, packing afresh: with a store (`store`: the
# store's hash cache already holds every PNG's hash, so the dataset key reads
# no image and the run times packing) or into a plain folder (`first`: a
# first run, which reads and hashes every PNG for the key).
ours_rate() {
  local mode=$1 t=$2
  rm -rf "$BENCH_DIR/out" "$BENCH_DIR/store/preprocess"
  local dest=(-o "$BENCH_DIR/out")
  [[ "$mode" == store ]] && dest=(--store "$BENCH_DIR/store")
  s=$(date +%s.%N)
  "$bin" --data "$data" "${dest[@]}" --threads "$t" -q > /dev/null
  e=$(date +%s.%N)
  awk -v n="$sites" -v s="$s" -v e="$e" 'BEGIN {printf "%.2f\n", n / (e - s)}'
}

for t in $(printf '%s\n' 1 "$THREADS" | sort -un); do
  "$bin" --data "$data" -o "$BENCH_DIR/warm" --threads "$t" -q > /dev/null
  # Fills the store's hash cache (the key of later store runs reads no image).
  "$bin" --data "$data" --store "$BENCH_DIR/store" --threads "$t" -q > /dev/null
  # Interleaved, so that a drift in the machine's speed hits all three alike.
  A=(); F=(); B=()
  for _ in $(seq "$RUNS"); do
    A+=("$(ours_rate store "$t")")
    F+=("$(ours_rate first "$t")")
    B+=("$("$PYTHON" "$here/bench/cv2_decode.py" "$data" "$t" 1)")
  done
  ours=$(printf '%s\n' "${A[@]}" | median)
  first=$(printf '%s\n' "${F[@]}" | median)
  base=$(printf '%s\n' "${B[@]}" | median)
  echo "preprocess: ours $ours sites/s, baseline $base sites/s, ratio $(ratio "$ours" "$base") (threads $t, median of $RUNS interleaved, $PROFILE; dataset key from the store's hash cache)"
  echo "preprocess first run: ours $first sites/s, baseline $base sites/s, ratio $(ratio "$first" "$base") (threads $t, median of $RUNS; -o, the dataset key reads and hashes every PNG)"
  om=$(ms_mp "$ours"); bm=$(ms_mp "$base")
  echo "preprocess per megapixel: ours $om ms/MP, baseline $bm ms/MP, ratio $(ratio "$om" "$bm") (threads $t, median of $RUNS; time, lower is faster)"
  rm -rf "$BENCH_DIR/out"
  split=$("$bin" --data "$data" -o "$BENCH_DIR/out" --threads "$t" -v 2>&1 >/dev/null | sed -n 's/.*time split (thread-seconds): //p')
  rd_s=$(sed -n 's/^read \([0-9.]*\) s.*/\1/p' <<< "$split")
  dec=$(sed -n 's/.*decode \([0-9.]*\) s.*/\1/p' <<< "$split")
  dm=$(awk -v r="$rd_s" -v d="$dec" -v m="$mp" 'BEGIN {printf "%.2f", 1000 * (r + d) / m}')
  bt=$(awk -v b="$bm" -v t="$t" 'BEGIN {printf "%.2f", b * t}')
  echo "preprocess decode only: ours $dm ms/MP, baseline $bt ms/MP, ratio $(ratio "$dm" "$bt") (threads $t; thread-seconds per MP, the baseline's wall time x threads; lower is faster)"
  echo "preprocess split (threads $t): $split"
  rd=$("$reader" "$BENCH_DIR/warm" "$t" "$RUNS" 2>/dev/null)
  echo "reader: ours $rd sites/s, baseline $base sites/s, ratio $(ratio "$rd" "$base") (threads $t, median of $RUNS)"
done
