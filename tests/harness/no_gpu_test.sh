#!/usr/bin/env bash
# Without a GPU every GPU command exits 3 with one line on stderr and never crashes; bad flags
# exit 2 with or without a GPU. Exits 77 (skipped) for the no-GPU part when a GPU is present.
set -u
goodput=$1
work=$2
mkdir -p "$work"
fail=0
expect() {  # expect CODE ARGS...: run goodput ARGS, check the exit code and a one-line stderr
  local want=$1; shift
  "$goodput" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  local lines; lines=$(wc -l <"$work/err")
  if [ "$rc" != "$want" ]; then
    echo "FAIL: goodput $* exited $rc, expected $want; stderr:"; cat "$work/err"; fail=1
  elif [ "$want" = 3 ] && [ "$lines" != 1 ]; then
    echo "FAIL: goodput $* wrote $lines lines to stderr, expected one:"; cat "$work/err"; fail=1
  else
    echo "ok: goodput $* -> $rc: $(head -n 1 "$work/err")"
  fi
}
expect 2 calibrate --bogus
expect 2 calibrate --only nothing
expect 2 bench --not-a-flag
expect 2 bench --only collectives  # `goodput collectives` benchmarks them
if "$goodput" devices >/dev/null 2>&1; then
  echo "a GPU is present: the no-GPU checks do not apply"
  [ $fail = 0 ] && exit 77 || exit 1
fi
expect 3 devices
expect 3 calibrate
expect 3 calibrate --quick --json "$work/calibrate.json"
expect 3 bench
expect 3 bench --benchmark_filter=memory
# With --json a failed run still leaves a document saying why.
if ! grep -q '"status": "failed"' "$work/calibrate.json"; then
  echo "FAIL: calibrate --json did not write a failed document"; fail=1
fi
exit $fail
