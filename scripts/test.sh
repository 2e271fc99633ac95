#!/usr/bin/env bash
# The test command: set up, build, run every test. GPU tests report as skipped without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
build=$(scripts/build.sh | tail -n 1)
ctest --test-dir "$build" --output-on-failure -j "${GOODPUT_JOBS:-$(nproc)}" "$@"
