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

echo "quickstart: no usable GPU here, so no calibration; analyzing an example trace instead:"
echo "quickstart: examples/traces/h200-gpt124m-goodput.json.gz, 50 training steps of GPT-124M recorded"
echo "quickstart: on an H200 by goodput profile (examples/traces/README.md says how and what it shows)"
mkdir -p goodput-results
exec "$goodput" analyze examples/traces/h200-gpt124m-goodput.json.gz --step-marker step \
  --model examples/models/gpt-train-example.json --gpu "H200 SXM 141GB" \
  --json goodput-results/analyze-example.json \
  --trace-out goodput-results/analyze-example-annotated.json.gz
