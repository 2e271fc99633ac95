#!/usr/bin/env bash
# The main job: set up, build, calibrate the GPU. Without a GPU it says so and analyzes the
# example trace instead, so the whole pipeline still runs end to end.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit $?
build=$(scripts/build.sh | tail -n 1) || exit $?
goodput="$build/apps/goodput"

"$goodput" calibrate "$@"
rc=$?
[ $rc -ne 3 ] && exit $rc

echo "quickstart: no usable GPU here, so no calibration; analyzing the example trace instead"
trace=examples/traces/synthetic-kineto-llm.json.gz
if [ ! -f "$trace" ]; then
  echo "quickstart: the example trace $trace does not exist in this checkout; nothing more to run"
  exit 0
fi
if ! "$goodput" analyze --help >/dev/null 2>&1; then
  echo "quickstart: this goodput has no 'analyze' command; nothing more to run"
  exit 0
fi
mkdir -p goodput-results
"$goodput" analyze "$trace" --json goodput-results/analyze-example.json
