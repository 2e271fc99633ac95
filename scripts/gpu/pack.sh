#!/usr/bin/env bash
# Prepare a GPU-machine run: the gpu-preset build (binaries, test lists, no objects) and the
# shared libraries it needs that a CUDA image may lack, into .gpu/ (ignored; carried by the
# device call), with ../shared/gpu/probe.sh. Then, there: scripts/gpu/device_check.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/gpu}
[ -x "$build/apps/goodput" ] || { echo "pack.sh: no build in $build (cmake --preset gpu && cmake --build --preset gpu)" >&2; exit 2; }
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
rm -rf .gpu && mkdir -p .gpu/build/gpu .gpu/lib
tar -C "$build" --exclude '*.o' --exclude '*.a' --exclude '.ninja_*' --exclude 'CMakeFiles' \
  --exclude 'CMakeCache.txt' -cf - . | tar -C .gpu/build/gpu -xf -
find .gpu/build/gpu -type f \( -perm -u+x -o -name '*.so' \) -exec strip --strip-unneeded {} + 2>/dev/null || true
# Non-system libraries the binaries load (CUDA's own are found on the machine).
find .gpu/build/gpu -type f \( -perm -u+x -o -name '*.so' \) -exec ldd {} + 2>/dev/null |
  awk '/=> \//{print $3}' | sort -u |
  grep -E 'lib(isal|benchmark|simdjson|gtest|gmock|z)\.so' | xargs -r cp -L -t .gpu/lib
cp ../shared/gpu/probe.sh .gpu/ 2>/dev/null || echo "pack.sh: ../shared/gpu/probe.sh absent" >&2
du -sh .gpu
