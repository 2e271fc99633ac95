#!/usr/bin/env bash
# Configure and build with the right preset: "ci" (CUDA, every architecture) when nvcc exists,
# "host" otherwise. GOODPUT_PRESET overrides. Prints the build folder on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${GOODPUT_PRESET:-}
if [ -z "$preset" ]; then
  if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then preset=ci; else preset=host; fi
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "${GOODPUT_JOBS:-$(nproc)}"
echo "build/$preset"
