#!/usr/bin/env bash
# Nightly regression run: calibrate + the standard benchmark set + compare against this SKU's
# baseline + reports (Markdown, JUnit, JSON, HTML, pictures), all in one dated folder.
# For cron or any CI. Exit: 0 no regression, 1 regression, 2 bad input or no baseline usable,
# 3 no GPU, 4 runtime failure.
#
#   scripts/nightly.sh [--out DIR] [--baseline-dir DIR] [--quick] [--update-baseline]
#
#   --out DIR            where the dated folders go (default: nightly)
#   --baseline-dir DIR   per-SKU baselines, DIR/<sku>/*.json (default: results)
#   --quick              pass --quick to `goodput calibrate` (about a minute)
#   --update-baseline    when nothing regressed, make tonight's results the SKU's baseline
#
# Environment: GOODPUT (the binary; default: build it with scripts/build.sh),
# GOODPUT_NIGHTLY_BENCHMARKS (subcommands to run, default "calibrate collectives"),
# GOODPUT_COMPARE_ARGS (extra `goodput compare` flags, e.g. "--threshold collective=8%").
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=nightly
baseline_dir="$root/results"
quick=()
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --baseline-dir) baseline_dir=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    --update-baseline) update=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "nightly: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

goodput=${GOODPUT:-}
if [ -z "$goodput" ]; then
  build=$("$root/scripts/build.sh" | tail -n 1) || { echo "nightly: build failed" >&2; exit 4; }
  goodput="$root/$build/apps/goodput"
fi
[ -x "$goodput" ] || { echo "nightly: no goodput binary at $goodput" >&2; exit 4; }

# One folder per run: the date, then the time, then a counter if runs come faster than that.
day="$out/$(date -u +%Y-%m-%d)"
[ -e "$day" ] && day="$day-$(date -u +%H%M%S)"
base=$day n=2
while [ -e "$day" ]; do day="$base-$n"; n=$((n + 1)); done
mkdir -p "$day" || exit 4
log() { echo "nightly: $*" | tee -a "$day/nightly.log" >&2; }
log "writing to $day with $goodput"

# No GPU: say so and stop; there is nothing to measure.
"$goodput" devices --json "$day/devices.json" >"$day/devices.txt" 2>"$day/devices.err"
rc=$?
if [ $rc -ne 0 ]; then
  log "$(tail -n 1 "$day/devices.err")"
  [ $rc -eq 3 ] && log "no usable GPU on $(hostname): nothing measured"
  exit $rc
fi

sku=$(python3 -c 'import json,re,sys; n=json.load(open(sys.argv[1]))["devices"][0]["name"]; print(re.sub(r"-+","-",re.sub(r"[^a-z0-9]","-",n.lower())).strip("-"))' "$day/devices.json") \
  || { log "cannot read the device name from $day/devices.json"; exit 4; }

results=()
for cmd in ${GOODPUT_NIGHTLY_BENCHMARKS:-calibrate collectives}; do
  if ! "$goodput" "$cmd" --help >/dev/null 2>&1; then
    log "skipping '$cmd': this goodput has no such command"
    continue
  fi
  extra=()
  [ "$cmd" = calibrate ] && extra=("${quick[@]}")
  log "goodput $cmd ${extra[*]}"
  "$goodput" "$cmd" "${extra[@]}" --json "$day/$cmd.json" >"$day/$cmd.txt" 2>&1
  rc=$?
  if [ $rc -eq 3 ] || [ $rc -eq 130 ]; then log "goodput $cmd exited $rc"; exit $rc; fi
  [ $rc -ne 0 ] && log "goodput $cmd exited $rc (its finished results are kept)"
  [ -s "$day/$cmd.json" ] && results+=("$day/$cmd.json")
done
[ ${#results[@]} -gt 0 ] || { log "no results were written"; exit 4; }

if [ -d "$baseline_dir/$sku" ]; then
  # shellcheck disable=SC2086  # GOODPUT_COMPARE_ARGS is a list of flags
  "$goodput" compare --baseline-dir "$baseline_dir" "${results[@]}" ${GOODPUT_COMPARE_ARGS:-} \
    --json "$day/compare.json" --markdown "$day/compare.md" --junit "$day/compare.xml" \
    >"$day/compare.txt" 2>"$day/compare.err"
  verdict=$?
  cat "$day/compare.txt"
else
  log "no baseline for $sku in $baseline_dir/$sku (first run on this SKU? use --update-baseline)"
  verdict=2
  [ $update -eq 1 ] && verdict=0
fi
report_args=()
if [ $verdict -le 1 ]; then
  report_args=(--baseline-dir "$baseline_dir")
elif [ -s "$day/compare.err" ]; then
  log "compare failed: $(tail -n 1 "$day/compare.err")"
fi
"$goodput" report "${results[@]}" "${report_args[@]}" -o "$day/report.html" --title "goodput nightly $(basename "$day")" \
  >>"$day/nightly.log" 2>&1 || log "report failed"
python3 "$root/scripts/plot_results.py" "${results[@]}" --out "$day/pictures" \
  $([ -s "$day/compare.json" ] && [ $verdict -le 1 ] && echo --compare "$day/compare.json") \
  >>"$day/nightly.log" 2>&1 || log "pictures failed (is matplotlib installed? scripts/setup.sh)"
ln -sfn "$(basename "$day")" "$out/latest"

if [ $update -eq 1 ] && [ $verdict -eq 0 ]; then
  mkdir -p "$baseline_dir/$sku" && cp "${results[@]}" "$baseline_dir/$sku/"
  log "baseline for $sku updated from $day"
elif [ $update -eq 1 ]; then
  log "baseline for $sku NOT updated: compare exit $verdict"
fi
log "done: $day/report.html (compare exit $verdict)"
exit $verdict
