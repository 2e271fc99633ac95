#!/usr/bin/env bash
# Bounded fuzzing of the input parsers (trace reader, event-log reader) with libFuzzer + ASan/UBSan:
# a clang host-only build of the fuzz targets, then `ctest -L fuzz` (30 s each). Skips with a
# message when clang is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found; skipping the fuzz run (apt-get install clang)"
  exit 0
fi
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DGOODPUT_CUDA=OFF -DGOODPUT_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "${GOODPUT_JOBS:-$(nproc)}" --target goodput_fuzz_kineto_reader goodput_ledger_fuzz
ctest --test-dir build/fuzz -L fuzz --output-on-failure
