#!/usr/bin/env bash
# `goodput analyze` vs HolisticTraceAnalysis on ../shared/traces, plus a 1 GB synthetic trace:
# installs HTA into build/hta-venv (pip), builds goodput, runs scripts/bench_analyze.py and
# writes results/analyze/vs-hta-$(nproc)core.json, medians of nine repeats (as recorded there).
# Arguments go to bench_analyze.py (a later --repeat wins).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/hta-venv
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import hta" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet holistictraceanalysis
fi
build=$(scripts/build.sh | tail -n 1)
exec python3 scripts/bench_analyze.py --goodput "$build/apps/goodput" \
  --hta-python "$venv/bin/python" --big 1024 --repeat 9 \
  --out "results/analyze/vs-hta-$(nproc)core.json" "$@"
