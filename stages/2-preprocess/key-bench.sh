#!/usr/bin/env bash
# The dataset key at full file count: the first key of a data root (every
# file read and hashed) against the second (the store's cache of file
# hashes: every file stat'ed, none read), each with the files evicted from
# the page cache first (posix_fadvise DONTNEED per file, as a 46 GB dataset
# would be; directory metadata stays cached, which needs root to drop).
# DATA: a data root (default: rcic-synth's rxrx1 preset at --image-size 16,
# all 753,060 PNG files, generated into BENCH_DIR once).
# Env: DATA, BENCH_DIR (default a temporary folder), THREADS (default 1).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/rcic/target}
PY=$ROOT/.venv/bin/python
THREADS=${THREADS:-1}
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
(cd "$ROOT" && cargo build -q -p rcic-synth -p rcic-preprocess)
BIN=$TARGET/debug
if [ -z "${DATA:-}" ]; then
  DATA=$WORK/rxrx1-16
  [ -f "$DATA/train.csv" ] || "$BIN/rcic-synth" --preset rxrx1 --image-size 16 --seed 0 --out "$DATA" --threads 2 --force >/dev/null
fi
evict() {
  "$PY" - "$DATA" <<'PY'
import os, sys
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        fd = os.open(os.path.join(d, f), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        n += 1
PY
}
key() {
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$BIN/rcic-preprocess" --data "$DATA" --store "$WORK/store" --dataset-key --threads "$THREADS")
  t1=$(date +%s.%N)
  echo "$("$PY" -c "print('%.2f' % ($t1 - $t0))") $out"
}
rm -rf "$WORK/store"
BYTES=$(du -sb "$DATA" | cut -f1)
evict; A=$(key)
evict; B=$(key)
read -r TA KA REST_A <<<"$A"; read -r TB KB REST_B <<<"$B"
[ "$KA" = "$KB" ] || { echo "dataset key: the cached key differs" >&2; exit 1; }
echo "dataset key $(basename "$DATA") ($("$PY" -c "print('%.2f GB' % ($BYTES / 1e9))")): second (cache) $TB s ${REST_B}, first $TA s ${REST_A}, ratio $("$PY" -c "print('%.3f' % ($TB / $TA))") (threads $THREADS, files evicted)"
