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
echo "quickstart: examples/traces/synthetic-kineto-llm.json.gz is SYNTHETIC (made by scripts/make_example_trace.py)"
mkdir -p goodput-results
exec "$goodput" analyze examples/traces/synthetic-kineto-llm.json.gz \
  --model examples/models/synthetic-gpt-small.json --json goodput-results/analyze-example.json \
  --trace-out goodput-results/analyze-example-annotated.json.gz
