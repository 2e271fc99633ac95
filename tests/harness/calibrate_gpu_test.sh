#!/usr/bin/env bash
# `goodput calibrate --quick` end to end on a GPU, and its document against the schema.
# Exits 77 (skipped) without a GPU.
set -u
goodput=$1
work=$2
mkdir -p "$work"
if ! "$goodput" devices >/dev/null 2>&1; then
  echo "no GPU: skipped"; exit 77
fi
"$goodput" calibrate --quick --json "$work/calibrate.json" || { echo "calibrate exited $?"; exit 1; }
python3 "$(dirname "$0")/../../scripts/validate_results.py" "$work/calibrate.json" || exit 1
grep -q '"status": "complete"' "$work/calibrate.json"
