#!/usr/bin/env bash
# Installs what goodput needs to build and test, only where it is missing (Debian/Ubuntu + pip).
# Safe to run again. GOODPUT_SKIP_SETUP=1 skips it entirely (e.g. on a prepared GPU image).
set -euo pipefail
[ "${GOODPUT_SKIP_SETUP:-0}" = 1 ] && exit 0

apt_pkgs=(cmake ninja-build g++ git pkg-config zlib1g-dev libisal-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev
          libopenmpi-dev openmpi-bin)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The test path (scripts/test.sh passes --test) also gets Chromium for the HTML report's browser test.
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium (browser test)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends chromium >/dev/null; } || echo "setup: chromium not installed; the browser test will be skipped"
fi
# ... clang-format for the style check (scripts/check_format.sh) ...
if [ "${1:-}" = "--test" ] && ! command -v clang-format >/dev/null 2>&1; then
  echo "setup: installing clang-format (style check)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends clang-format >/dev/null; } || echo "setup: clang-format not installed; the style check will be skipped"
fi
# ... and clang with libFuzzer for scripts/fuzz.sh.
if [ "${1:-}" = "--test" ] && ! command -v clang++ >/dev/null 2>&1; then
  echo "setup: installing clang (fuzzing)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends clang libclang-rt-14-dev >/dev/null; } || echo "setup: clang not installed; fuzzing will be skipped"
fi

# Python side: nvml.h (telemetry header), jsonschema (schema tests).
PY=${PYTHON:-python3}
py_missing=()
$PY -c "import jsonschema" 2>/dev/null || py_missing+=(jsonschema)
$PY -c "import matplotlib" 2>/dev/null || py_missing+=(matplotlib)  # scripts/plot_results.py
$PY - <<'PYEOF' 2>/dev/null || py_missing+=("nvidia-nvml-dev==13.0.87")
import nvidia, os, sys
sys.exit(0 if any(os.path.exists(os.path.join(p, d, "include", "nvml.h")) for p in nvidia.__path__ for d in ("cu13", "cu12", "nvml")) else 1)
PYEOF
if [ ${#py_missing[@]} -gt 0 ]; then
  echo "setup: pip installing ${py_missing[*]}"
  $PY -m pip install -q --disable-pip-version-check "${py_missing[@]}" 2>&1 | grep -v "Running pip as the 'root' user" || true
fi
echo "setup: ok"
