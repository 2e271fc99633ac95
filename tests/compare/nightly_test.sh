#!/usr/bin/env bash
# scripts/nightly.sh end to end. Without a GPU the real binary must make it exit 3; the rest of the
# pipeline runs against a stand-in binary whose devices/calibrate/collectives hand out fixtures
# (compare and report are the real ones).
#   nightly_test.sh GOODPUT_BINARY FIXTURES_DIR NIGHTLY_SCRIPT
set -uo pipefail
real=$1 fx=$2 nightly=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { if [ "$1" != "$2" ]; then echo "FAIL: $3 (exit $1, want $2)"; fail=1; fi; }

if ! "$real" devices >/dev/null 2>&1; then
  GOODPUT=$real "$nightly" --out "$tmp/none" >/dev/null 2>"$tmp/none.err"
  expect $? 3 "no GPU: exit 3"
  grep -q "no usable GPU" "$tmp/none.err" || { echo "FAIL: no GPU is not said"; fail=1; }
fi

cat >"$tmp/goodput" <<FAKE
#!/usr/bin/env bash
cmd=\$1; shift
json=""; args=("\$@"); for ((i=0;i<\${#args[@]};i++)); do [ "\${args[i]}" = --json ] && json=\${args[i+1]}; done
case \$cmd in
  devices) python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['results']=[]; json.dump(d, open(sys.argv[2], 'w'))" "$fx/baseline.json" "\$json";;
  calibrate) [ "\${args[0]}" = --help ] && exit 0; cp "\${FAKE_RESULT}" "\$json";;
  collectives) exit 0;;
  *) exec "$real" "\$cmd" "\$@";;
esac
FAKE
chmod +x "$tmp/goodput"
run() { GOODPUT="$tmp/goodput" "$nightly" --out "$tmp/out" --baseline-dir "$tmp/base" "$@" >"$tmp/log" 2>&1; }

mkdir -p "$tmp/base"
FAKE_RESULT=$fx/baseline.json run; expect $? 2 "no baseline for the SKU: exit 2"
FAKE_RESULT=$fx/baseline.json run --update-baseline; expect $? 0 "first night with --update-baseline"
[ -f "$tmp/base/nvidia-h100-80gb-hbm3/calibrate.json" ] || { echo "FAIL: baseline not stored"; fail=1; }
FAKE_RESULT=$fx/current_noise.json run; expect $? 0 "noise: no regression"
FAKE_RESULT=$fx/current_regression.json run --update-baseline; expect $? 1 "regression: exit 1"
cmp -s "$tmp/base/nvidia-h100-80gb-hbm3/calibrate.json" "$fx/baseline.json" || { echo "FAIL: a regressed run replaced the baseline"; fail=1; }
latest="$tmp/out/latest"
for f in compare.txt compare.md compare.xml compare.json report.html nightly.log; do
  [ -s "$latest/$f" ] || { echo "FAIL: $f missing in the dated folder"; fail=1; }
done
grep -q "gemm/bf16/8192x8192x8192" "$latest/compare.md" || { echo "FAIL: compare.md lacks the regression"; fail=1; }
grep -q "1 regression found" "$latest/report.html" || { echo "FAIL: report lacks the verdict"; fail=1; }
[ "$(ls -d "$tmp"/out/20* | wc -l)" -eq 4 ] || { echo "FAIL: one dated folder per run expected"; fail=1; }
[ $fail -eq 0 ] && echo "nightly: ok"
exit $fail
