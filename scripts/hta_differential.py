#!/usr/bin/env python3
"""goodput's HTA-compatible breakdown against HolisticTraceAnalysis itself, on random traces.

Each seed makes a small Kineto trace (documented below, labelled synthetic in its traceName):
ProfilerSteps, launches with correlation ids, kernels on one or two streams (compute, NCCL,
memcpy/memset) at fractional-microsecond epoch-scale times, events shuffled. HTA (in the Python
given) and `goodput analyze --json` read each one; idle, compute, non-compute and overlap must
agree to HTA's own rounding (two decimals). Exit 0 when every seed agrees, 1 on a disagreement
(each one printed), 77 when the Python has no `hta` (the test then reports as skipped).

No event shorter than a microsecond is made: where one spans no whole microsecond, HTA keeps a
negative duration and goodput an empty one, on purpose (README, HTA-compatible line).

  scripts/hta_differential.py --goodput build/ci/apps/goodput --hta-python build/hta-venv/bin/python \
      [--seeds 0:200]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HTA_CHILD = r"""
import json, sys, warnings, logging
warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)
from hta.trace_analysis import TraceAnalysis
out = {}
for d in sys.argv[1:]:
    a = TraceAnalysis(trace_dir=d)
    r = a.get_temporal_breakdown(visualize=False).iloc[0]
    o = float(a.get_comm_comp_overlap(visualize=False)["comp_comm_overlap_pctg"].iloc[0])
    out[d] = {"idle_pct": float(r["idle_time_pctg"]), "compute_pct": float(r["compute_time_pctg"]),
              "non_compute_pct": float(r["non_compute_time_pctg"]),
              "overlap_pct": o if o == o else None}
print("HTA_RESULT " + json.dumps(out))
"""

# Kernel names, with some that only HTA's exact regexes type right: an "ncclKernel" past the
# start is compute to it, a name starting "dma" memory, one holding "Memcpy" or "Sync" neither.
COMPUTE = ["sm90_xmma_gemm_bf16bf16_bf16f32", "void at::native::vectorized_elementwise_kernel<4>(int)",
           "flash_fwd_kernel", "void cutlass::Kernel<foo>(bar)", "void foo::ncclKernel_bar(int)",
           "dma_copy_kernel", "void batched_Memcpy_kernel(int)", "wait_Sync_kernel"]
NCCL = ["ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
        "ncclKernel_AllGather_RING_LL_Sum_int8_t(ncclWorkElem)"]
MEMORY = [("Memcpy HtoD (Pageable -> Device)", "gpu_memcpy"), ("Memset (Device)", "gpu_memset")]


def make_trace(seed, path):
    """A random step trace; times in microseconds near 1e15 as Kineto's are (where a float64
    holds quarter microseconds: HTA's rounding sees that double), with three decimals or whole;
    one to six ProfilerSteps (HTA trims the last only from two on); some CPU ops that name a
    stream, as torch.compile's Triton launchers do, and cuda_sync records of the host waiting
    (HTA counts those on a stream as GPU work)."""
    r = random.Random(seed)
    whole = r.random() < 0.3
    events = []
    t = 1.7e15 + r.randint(0, 10**6)
    corr = 100000  # HTA's pandas frames take small ids as int8 and fail on larger ones
    streams = [7] + ([r.choice([13, 20, 24])] if r.random() < 0.7 else [])
    free = {s: 0.0 for s in streams}
    ms = (lambda x: int(x)) if whole else (lambda x: round(x, 3))
    for step in range(r.choice([1, 2, 3, 4, 6])):
        step_start = t
        for _ in range(r.randint(1, 25)):
            t += r.choice([0, 0.5, 1, 3, 10, 50]) * (1 if r.random() < 0.8 else 20)
            events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1,
                           "tid": 1, "ts": ms(t), "dur": r.choice([2, 5, 8]),
                           "args": {"correlation": corr, "External id": corr}})
            s = r.choice(streams)
            kind = r.random()
            if kind < 0.2:
                name, cat = r.choice(NCCL), "kernel"
            elif kind < 0.3:
                name, cat = r.choice(MEMORY)
            else:
                name, cat = r.choice(COMPUTE), "kernel"
            start = max(t + r.choice([1, 5, 20, 100]), free[s] + r.choice([0, 0, 1, 7]))
            dur = r.choice([1, 3, 10, 40, 200, 1000]) * (1 if r.random() < 0.9 else 5) + (
                0 if whole else r.random())
            start, dur = ms(start), ms(dur)
            free[s] = start + dur
            events.append({"ph": "X", "cat": cat, "name": name, "pid": 0, "tid": s, "ts": start,
                           "dur": dur, "args": {"device": 0, "stream": s, "correlation": corr,
                                                "External id": corr}})
            corr += 1
            if r.random() < 0.15:  # the host waits: cudaStreamSynchronize and its sync record
                kind = r.choice(["Stream Sync", "Stream Wait Event", "Event Sync", "Context Sync"])
                wait_on = -1 if kind in ("Event Sync", "Context Sync") else s
                events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamSynchronize",
                               "pid": 1, "tid": 1, "ts": ms(t + 1), "dur": 30,
                               "args": {"correlation": corr + 500000}})
                events.append({"ph": "X", "cat": "cuda_sync", "name": kind, "pid": 1, "tid": 1,
                               "ts": ms(t + 2), "dur": ms(r.choice([1, 5, 25]) + (0 if whole else r.random())),
                               "args": {"cuda_sync_kind": kind, "stream": wait_on,
                                        "correlation": corr + 500000, "device": 0}})
            if r.random() < 0.1:
                events.append({"ph": "X", "cat": "cpu_op", "name": "triton_poi_fused_add_%d" % corr,
                               "pid": 1, "tid": 1, "ts": ms(t + 0.5), "dur": ms(r.choice([3, 20, 70])),
                               "args": {"External id": corr, "stream": 0}})
        t = max([t] + list(free.values())) + r.choice([0, 5, 50, 500])
        events.append({"ph": "X", "cat": r.choice(["user_annotation", "cpu_op"]),
                       "name": "ProfilerStep#%d" % (step + 10), "pid": 1, "tid": 1,
                       "ts": ms(step_start), "dur": ms(t - step_start),
                       "args": {"External id": 10**6 + step}})
    r.shuffle(events)
    doc = {"traceName": "synthetic (scripts/hta_differential.py, seed %d)" % seed,
           "distributedInfo": {"backend": "nccl", "rank": 0, "world_size": 1},
           "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "numSms": 132,
                                 "computeMajor": 9, "computeMinor": 0}],
           "traceEvents": events}
    with open(path, "w") as f:
        json.dump(doc, f)


def goodput_numbers(goodput, trace, out):
    p = subprocess.run([goodput, "analyze", trace, "--json", out], capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout).strip()[-300:]}
    with open(out) as f:
        h = json.load(f)["analysis"]["ranks"][0]["hta_compatible"]
    return {"idle_pct": h["idle_pct"], "compute_pct": h["compute_pct"],
            "non_compute_pct": h["non_compute_pct"], "overlap_pct": h["comm_comp_overlap_pct"]}


def disagreements(g, h):
    """Keys where goodput's exact value is not what HTA's two-decimal one rounds from."""
    if "error" in g:
        return {"goodput": g["error"]}
    bad = {}
    for k, hv in h.items():
        gv = g[k]
        if (gv is None) != (hv is None) or (gv is not None and abs(gv - hv) > 0.005 + 1e-9):
            bad[k] = (gv, hv)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--goodput", required=True)
    ap.add_argument("--hta-python", required=True, help="a Python with holistictraceanalysis")
    ap.add_argument("--seeds", default="0:200", help="first:last (last excluded)")
    a = ap.parse_args()
    if not os.path.exists(a.hta_python) or subprocess.run(
            [a.hta_python, "-c", "import hta"], capture_output=True).returncode != 0:
        print("skipped: %s has no holistictraceanalysis (scripts/bench_analyze.sh installs it)"
              % a.hta_python)
        return 77
    lo, hi = (int(x) for x in a.seeds.split(":"))
    with tempfile.TemporaryDirectory() as root:
        dirs = []
        for seed in range(lo, hi):
            d = os.path.join(root, str(seed))
            os.makedirs(d)
            make_trace(seed, os.path.join(d, "rank0.json"))
            dirs.append(d)
        p = subprocess.run([a.hta_python, "-c", HTA_CHILD, *dirs], capture_output=True, text=True)
        line = next((l for l in p.stdout.splitlines() if l.startswith("HTA_RESULT ")), None)
        if line is None:
            print("HTA failed:\n" + p.stderr[-3000:])
            return 1
        hta = json.loads(line[len("HTA_RESULT "):])
        failed = 0
        for d in dirs:
            bad = disagreements(goodput_numbers(a.goodput, os.path.join(d, "rank0.json"),
                                                os.path.join(d, "goodput.json")), hta[d])
            if bad:
                failed += 1
                print("seed %s: goodput vs HTA %s" % (os.path.basename(d), bad))
    print("%d of %d random traces agree with HTA to its two decimals" % (hi - lo - failed, hi - lo))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
