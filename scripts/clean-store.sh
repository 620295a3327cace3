#!/usr/bin/env bash
# make clean-store: the store entries that no pipeline output refers to.
# A preprocess artifact (STORE/preprocess/KEY) is kept while a models
# folder's config/data names it; unfinished temporaries (hidden .tmp* folders
# a killed run left) and file-hash caches of data roots that no longer exist
# go too. Lists them with their sizes; deletes them only with DELETE=1.
# usage: clean-store.sh STORE [DELETE]
set -euo pipefail
STORE=${1:?usage: clean-store.sh STORE [1]}
DELETE=${2:-}
[ -d "$STORE" ] || { echo "STORE=$STORE: no such folder" >&2; exit 2; }
declare -A used=()
for f in "$STORE"/models/*/config/data; do
  [ -f "$f" ] || continue
  d=$(cat "$f")
  used[$(realpath -m "$d")]=1
done
stale=()
for d in "$STORE"/preprocess/* "$STORE"/preprocess/.tmp*; do
  [ -e "$d" ] || continue
  [ -n "${used[$(realpath -m "$d")]:-}" ] || stale+=("$d")
done
for f in "$STORE"/cache/file-hashes-*.tsv; do
  [ -f "$f" ] || continue
  # The cache names its files relative to a root it does not record; a
  # cache untouched for 30 days is stale.
  [ -n "$(find "$f" -mtime +30)" ] && stale+=("$f")
done
if [ ${#stale[@]} -eq 0 ]; then
  echo "clean-store: every entry of $STORE is in use"
  exit 0
fi
du -sh "${stale[@]}" | sed 's/^/unused: /'
if [ "$DELETE" = 1 ]; then
  rm -rf "${stale[@]}"
  echo "clean-store: removed ${#stale[@]} entries"
else
  echo "clean-store: ${#stale[@]} unused entries; nothing removed (make clean-store DELETE=1 removes them)"
fi
