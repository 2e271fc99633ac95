#!/usr/bin/env bash
# The whole GPU check of the project in one call, for a lent GPU machine with a short lease
# (../shared/gpu/README.md). Runs from the repository root with a build made elsewhere:
#   scripts/gpu/pack.sh            # here: prunes build/gpu into .gpu/ with the libraries it needs
#   scripts/gpu/device_check.sh    # there: OUT=<folder> GOODPUT_DEADLINE_S=<seconds>
# Stages run in order of value and each gets at most its cap, shortened so that the whole run ends
# by the deadline; a stage cut short is stopped with SIGINT first (goodput then writes what it
# finished). Everything lands in $OUT: log.txt, and results.tgz.* (15 MiB parts) with every file a
# stage wrote. GOODPUT_STAGES="ctest-gpu train-*" runs only matching stages; GOODPUT_NCCL_ROUNDS
# (default 2) alternates goodput and the plain NCCL loop that many times (GOODPUT_NCCL_SMALL_ROUNDS,
# default 4, for the latency-bound sizes); GOODPUT_TRACE_DEBUG=1 has the tracer log its own steps.
set -u
root=$PWD
out=${OUT:?set OUT to the folder results go to}
work=$(mktemp -d)
deadline=${GOODPUT_DEADLINE_S:-450}
start=$(date +%s)
log=$out/log.txt
exec > >(tee -a "$log") 2>&1

say() { printf '\n== [%4ds] %s\n' "$(($(date +%s) - start))" "$*"; }

# GOODPUT_STAGES="ctest-gpu train-*": run only the stages whose names match (default: all).
wanted() {
  [ -z "${GOODPUT_STAGES:-}" ] && return 0
  local p
  for p in $GOODPUT_STAGES; do
    # shellcheck disable=SC2053
    [[ $1 == $p ]] && return 0
  done
  return 1
}

# stage NAME CAP CMD...: run CMD with at most CAP seconds, or what is left before the deadline.
stage() {
  local name=$1 cap=$2
  shift 2
  wanted "$name" || return 0
  local left=$((deadline - ($(date +%s) - start)))
  [ "$cap" -gt "$left" ] && cap=$left
  if [ "$cap" -lt 10 ]; then
    say "$name: skipped, $left s left before the deadline"
    return 0
  fi
  say "$name (at most ${cap} s)"
  timeout -s INT -k 10 "$cap" "$@"
  local rc=$?
  say "$name: exit $rc"
  return 0
}

# The build was made under /work/main: its tests name files there by absolute path.
if [ "$root" != /work/main ]; then
  mkdir -p /work/main
  for f in "$root"/* "$root"/.gpu; do [ -e /work/main/"$(basename "$f")" ] || ln -s "$f" /work/main/; done
fi
mkdir -p /work/main/build
[ -e /work/main/build/gpu ] || ln -s "$root/.gpu/build/gpu" /work/main/build/gpu
bin=/work/main/build/gpu/apps
libdirs=$root/.gpu/lib
for so in libnccl.so.2 libcublasLt.so.13 libcupti.so.13; do
  d=$(find /opt /usr/local /usr/lib -name "$so" -printf '%h\n' 2>/dev/null | head -1)
  [ -n "$d" ] && libdirs=$libdirs:$d
done
export LD_LIBRARY_PATH=$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1

say "machine"
lscpu | grep -E "^(CPU\(s\)|Thread|Core|Socket|Model name)" || true
# The tracer stamps every host record with clock_gettime: cheap through the vDSO (tsc, kvm-clock),
# a system call per record otherwise.
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
# probe.sh searches the whole disk: in the background, beside the GPU stages.
timeout 120 bash "$root/.gpu/probe.sh" >"$work/probe.txt" 2>&1 &
probe=$!
nvidia-smi -q -d CLOCK,POWER,PERFORMANCE,TEMPERATURE >"$work/smi-q-before.txt" 2>&1
"$bin/goodput" --version
nvidia-smi dmon -s pucm -d 1 >"$work/dmon.txt" 2>&1 &
dmon=$!
stage devices 20 "$bin/goodput" devices --json "$work/devices.json"

# 1. Every GPU test (calibrate --quick runs below, on its own).
stage ctest-gpu 110 ctest --test-dir /work/main/build/gpu -L gpu -E calibrate_quick --timeout 60 \
  --output-junit "$work/ctest-gpu.xml" --output-on-failure

# 2. The tracer on a plain CUDA program with NVTX steps, without and with hardware counters.
steps_prog=/work/main/build/gpu/tests/tracer/goodput_cuda_steps_program
stage steps-trace 30 "$bin/goodput" profile -o "$work/steps.json" -- "$steps_prog" 5 4096 1000
stage steps-counters 30 "$bin/goodput" profile --counters sass --steps 1:4 \
  -o "$work/steps-counters.json" -- "$steps_prog" 5 4096 1000

# 3. A real training step: plain, under goodput profile, under torch.profiler, plain again.
train=(python3 "$root/examples/train/train_gpt.py" --steps 50)
stage train-plain-1 60 "${train[@]}" --out "$work/train-plain-1.json"
stage train-goodput 75 "$bin/goodput" profile -o "$work/trace-goodput.json" -- \
  "${train[@]}" --out "$work/train-goodput.json"
# The traced run read back at once (CPU only): per-step host usage, CUPTI's own overhead, idle.
if [ -f "$work/trace-goodput.json" ]; then
  stage analyze-goodput 30 sh -c "'$bin/goodput' analyze '$work/trace-goodput.json' --step-marker step \
    --json '$work/analyze-goodput.json' >'$work/analyze-goodput.txt'; head -c 6000 '$work/analyze-goodput.txt'"
fi
# What each kind of record costs the step: the same loop under each activity set, and with all of
# them but CUPTI clearing its buffers on the program's thread (its default) instead of the tracer
# (the traces are cut down to their metadata: the comparison needs the step times and the
# tracer's counts). NAME:ACTIVITIES[:ZEROING]
for arm in none:none kernel:kernel gpu:kernel,memcpy,memset gpu-sync:kernel,memcpy,memset,sync,overhead \
  gpu-driver:kernel,memcpy,memset,driver gpu-runtime:kernel,memcpy,memset,runtime \
  all-cupti-zeroing:kernel,memcpy,memset,runtime,driver,sync,overhead:cupti; do
  IFS=: read -r name acts zeroing <<<"$arm"
  stage "act-$name" 45 env GOODPUT_TRACE_BUFFER_ZEROING="${zeroing:-tracer}" "$bin/goodput" profile \
    --activities "$acts" -o "$work/act-$name.json" -- "${train[@]}" --steps 30 \
    --out "$work/act-$name-train.json"
  if [ -f "$work/act-$name.json" ]; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump(d.get("goodput"), open(sys.argv[2], "w"), indent=1)' \
      "$work/act-$name.json" "$work/act-$name-meta.json" && rm -f "$work/act-$name.json"
  fi
done
stage train-torch 75 "${train[@]}" --torch-profiler "$work/trace-torch.json" \
  --out "$work/train-torch.json"
stage train-plain-2 60 "${train[@]}" --out "$work/train-plain-2.json"

# 4. Collectives: goodput against the plain NCCL loop, interleaved twice (the spread of each
#    against itself is the noise the comparison is read against).
sweep=(-b 8 -e 64M -f 2)
for round in $(seq 1 "${GOODPUT_NCCL_ROUNDS:-2}"); do
  stage "collectives-$round" 40 "$bin/goodput" collectives -c all -d float --placement out \
    -n 100 -w 10 "${sweep[@]}" --json "$work/collectives-$round.json"
  stage "nccl-direct-$round" 30 sh -c "'$bin/goodput_nccl_direct' -c all -n 100 -w 10 ${sweep[*]} \
    >'$work/nccl-direct-$round.jsonl'"
done

# 4b. Latency-bound sizes (8 B to 8 MiB), where one round differs from the next by more than the
#     two tools differ: ten times the samples and GOODPUT_NCCL_SMALL_ROUNDS (default 4) rounds,
#     into nccl-small/ (scripts/gpu/compare_nccl.py reads that folder the same way).
mkdir -p "$work/nccl-small"
for round in $(seq 1 "${GOODPUT_NCCL_SMALL_ROUNDS:-4}"); do
  stage "collectives-small-$round" 30 "$bin/goodput" collectives -c all -d float --placement out \
    -n 1000 -w 100 -b 8 -e 8M -f 2 --json "$work/nccl-small/collectives-$round.json"
  stage "nccl-direct-small-$round" 30 sh -c "'$bin/goodput_nccl_direct' -c all -n 1000 -w 100 \
    -b 8 -e 8M -f 2 >'$work/nccl-small/nccl-direct-$round.jsonl'"
done

# 5. Calibration of the card (memory, GEMM, collectives).
stage calibrate-quick 110 "$bin/goodput" calibrate --quick --json "$work/calibrate-quick.json"

# 6. Hardware counters for a window of steps (tensor FLOPs, DRAM bytes).
stage train-counters 50 "$bin/goodput" profile --counters flops --steps 10:13 \
  -o "$work/trace-counters.json" -- "${train[@]}" --steps 16 --out "$work/train-counters.json"

# 7. Killed mid-run: goodput profile passes SIGTERM on; the trace must still be complete JSON.
if wanted train-sigterm; then
  say "train-sigterm (SIGTERM after 15 s)"
  timeout -s TERM -k 10 15 "$bin/goodput" profile -o "$work/trace-sigterm.json" -- \
    "${train[@]}" --steps 100000
  say "train-sigterm: exit $? (128+15 expected)"
fi

kill "$dmon" 2>/dev/null
wait "$probe"
say "packing"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv >"$work/smi-after.csv" 2>&1
ls -la "$work"
# At most 16 MiB per returned file: the archive in 15 MiB parts (cat results.tgz.* | tar xz).
tar -C "$work" -czf - . | split -b 15M - "$out/results.tgz." && ls -la "$out"
