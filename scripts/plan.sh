#!/usr/bin/env bash
# make plan: what `make submission` would run now, and why, without running
# it: the data's key against the preprocess artifact in use, each stage's
# resolved configuration against its stamp, and each output's presence and
# seal. Reads the stamps make keeps under MODELS/config and SUB.
# usage: plan.sh BIN STORE DATA MODELS SUB "SEEDS..." then, each as one
# argument, the train, export, predict and ensemble --print-config commands.
set -uo pipefail
BIN=$1 STORE=$2 DATA=$3 MODELS=$4 SUB=$5 SEEDS=$6
declare -A CMD=([train]=$7 [export]=$8 [predict]=$9 [ensemble]=${10})
CFG=$MODELS/config
why=()
say() { why+=("$1"); }

# The data: its key (cached file hashes) against the artifact's manifest.
data_changed=
key=$("$BIN/rcic-preprocess" --data "$DATA" --store "$STORE" --dataset-key 2>/dev/null | cut -d' ' -f1)
if [ ! -f "$CFG/data" ]; then
  data_changed=1; say "preprocess: no preprocess artifact in use yet (missing)"
elif ! grep -q "\"key\": *\"$key\"" "$(cat "$CFG/data")/manifest.json" 2>/dev/null; then
  data_changed=1; say "preprocess: the data changed (key $key is not the one of $(cat "$CFG/data"))"
fi
# A stage's parameters: its --print-config against its stamp.
changed() {
  local stamp=$1 cmd=$2 now
  now=$(eval "$cmd" 2>/dev/null) || return 0
  [ -f "$stamp" ] && [ "$now" = "$(cat "$stamp")" ] && return 1
  return 0
}
out_ok() { [ -f "$1" ] && [ -f "$1.blake3" ] && "$BIN/rcic-artifact" verify "$1" >/dev/null 2>&1; }
declare -A run=()
for stage in train export predict; do
  changed "$CFG/$stage" "${CMD[$stage]}" && { run[$stage]=all; say "$stage: its parameters changed ($CFG/$stage)"; }
done
[ -n "$data_changed" ] && run[train]=all
for s in ${SEEDS//,/ }; do
  d=$MODELS/seed$s
  t=; e=; p=
  if [ -n "${run[train]:-}" ]; then t=1
  elif ! out_ok "$d/model"; then t=1; say "train seed $s: $d/model is missing or changed"; fi
  if [ -n "$t" ] || [ -n "${run[export]:-}" ]; then e=1
  elif ! out_ok "$d/model.onnx"; then e=1; say "export seed $s: $d/model.onnx is missing or changed"; fi
  if [ -n "$e" ] || [ -n "${run[predict]:-}" ]; then p=1
  elif ! out_ok "$d/predictions.parquet"; then p=1; say "predict seed $s: $d/predictions.parquet is missing or changed"; fi
  [ -n "$t" ] && echo "would run: rcic-train seed $s$( [ -f "$d/resume.key" ] && ls "$d"/model.*.state >/dev/null 2>&1 && ! changed "$CFG/train" "${CMD[train]}" && [ -z "$data_changed" ] && echo ' (resuming)')"
  [ -n "$e" ] && echo "would run: rcic-export seed $s"
  [ -n "$p" ] && { echo "would run: rcic-predict seed $s"; run[ensemble]=1; }
done
if [ -z "${run[ensemble]:-}" ]; then
  if changed "$SUB/ensemble" "${CMD[ensemble]}"; then run[ensemble]=1; say "ensemble: its parameters changed ($SUB/ensemble)"
  elif ! out_ok "$SUB/submission.csv"; then run[ensemble]=1; say "ensemble: $SUB/submission.csv is missing or changed"; fi
fi
[ -n "${run[ensemble]:-}" ] && echo "would run: rcic-ensemble, rcic-report"
[ -n "$data_changed" ] && echo "would run: rcic-preprocess (first)"
if [ ${#why[@]} -eq 0 ]; then echo "plan: everything is up to date"; else printf 'because %s\n' "${why[@]}"; fi
