#!/usr/bin/env python3
"""Writes the results files the compare/report/plot tests read (tests/compare/fixtures/).

Deterministic (fixed seeds), so running it again reproduces the committed files byte for byte:
    python3 tests/compare/make_fixtures.py [OUT_DIR]

The numbers imitate an H100 SXM (bf16 GEMM ~795 TF/s at 8192^3, copy ~2.9 TB/s, 8-GPU NVLink
all-reduce ~450 GB/s busbw); times carry multiplicative Gaussian noise of a stated spread.
"""
import json
import math
import os
import random
import sys

H100 = {"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-00000000-1111-2222-3333-444444444444",
        "pci_bus_id": "00000000:19:00.0", "compute_capability": "9.0", "sms": 132,
        "memory_bytes": 85045231616, "l2_bytes": 52428800, "memory_bus_bits": 5120,
        "sm_clock_mhz_current": 1980, "sm_clock_mhz_max": 1980, "mem_clock_mhz_max": 2619,
        "driver_version": 13000, "driver_release": "580.65.06", "cuda_runtime_version": 13000,
        "cublas_version": 130000, "nccl_version": 22703, "ecc_enabled": True, "mig_mode": 0}
H100_PCIE = dict(H100, name="NVIDIA H100 PCIe", sms=114, driver_release="575.57.08",
                 driver_version=12090, uuid="GPU-99999999-1111-2222-3333-444444444444")

GEMM_PEAK = {"bf16": 795e12, "fp16": 800e12, "fp8": 1330e12, "tf32": 400e12}  # reachable FLOP/s
ELEM = {"bf16": 2, "fp16": 2, "fp8": 1, "tf32": 4}
GEMM_SIZES = [1024, 2048, 4096, 8192, 16384]
MEMORY = {"read": (3.24e12, 1, 0), "write": (2.80e12, 0, 1), "copy": (2.90e12, 1, 1),
          "triad": (2.97e12, 2, 1)}  # bytes/s, arrays read, arrays written
MEM_ELEMS = 1 << 29  # fp64 elements per array: 4 GiB, > 4x L2
COLLECTIVES = {"all_reduce": lambda n: 2 * (n - 1) / n, "all_gather": lambda n: (n - 1) / n}
COLL_SIZES = [1 << s for s in range(10, 31, 4)]  # 1 KiB .. 1 GiB
RANKS = 8


def meta(command):
    return {"tool": "goodput", "tool_version": "0.1.0", "git_sha": "0123456789ab", "git_dirty": False,
            "command": command, "argv": ["goodput", command], "start_time": "2026-11-20T02:00:00.000Z",
            "end_time": "2026-11-20T02:10:00.000Z", "status": "complete",
            "host": {"hostname": "node-a", "os": "Linux 6.8", "machine": "x86_64", "cpu": "", "cpus": 2},
            "environment": {}}


def stats(v):
    s = sorted(v)
    n = len(s)

    def q(p):
        pos = p * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    med = q(0.5)
    mean = sum(s) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in s) / (n - 1)) if n > 1 else 0.0
    dev = sorted(abs(x - med) for x in s)
    mad = dev[n // 2] if n % 2 else 0.5 * (dev[n // 2 - 1] + dev[n // 2])
    return {"n": n, "median": med, "mean": mean, "stddev": sd, "min": s[0], "max": s[-1],
            "p10": q(0.1), "p25": q(0.25), "p75": q(0.75), "p90": q(0.9), "p99": q(0.99),
            "mad": mad, "rel_spread": 1.4826 * mad / med}


def result(name, kind, params, true_time, n, spread, rng, flop=0.0, nbytes=0.0, extra_rates=None):
    values = [true_time * (1 + rng.gauss(0, spread)) for _ in range(n)]
    st = stats(values)
    rates = {}
    if flop:
        rates["flop_per_s"] = flop / st["median"]
    if nbytes:
        rates["bytes_per_s"] = nbytes / st["median"]
    for k, f in (extra_rates or {}).items():
        rates[k] = f / st["median"]
    return {"name": name, "kind": kind, "params": params, "status": "ok",
            "samples": {"unit": "s", "values": [float("%.9g" % v) for v in values]},
            "stats": st, "rates": rates, "peaks": {}, "device": 0}


def suite(seed, n=10, slow=None, device=H100, drop=(), add_extra=False, failed=None):
    """Every standard benchmark; `slow` maps a result name to a planted time factor."""
    rng = random.Random(seed)
    slow = slow or {}
    out = []
    for dt, peak in GEMM_PEAK.items():
        for s in GEMM_SIZES:
            flop = 2.0 * s * s * s
            rate = peak * s * s / (s * s + 1800.0 ** 2)  # small problems do not fill the GPU
            name = "gemm/%s/%dx%dx%d" % (dt, s, s, s)
            t = flop / rate * slow.get(name, 1.0)
            out.append(result(name, "gemm", {"dtype": dt, "m": s, "n": s, "k": s}, t, n, 0.01, rng,
                              flop=flop, nbytes=3.0 * s * s * ELEM[dt]))
    for op, (bw, reads, writes) in MEMORY.items():
        nbytes = 8.0 * MEM_ELEMS * (reads + writes)
        flop = 2.0 * MEM_ELEMS if op == "triad" else 0.0
        name = "memory/" + op
        out.append(result(name, "memory", {"op": op, "bytes": int(nbytes)}, nbytes / bw * slow.get(name, 1.0),
                          n, 0.005, rng, flop=flop, nbytes=nbytes))
    for coll, factor in COLLECTIVES.items():
        for size in COLL_SIZES:
            busbw = 450e9 * size / (size + (24 << 20)) + 1e6
            algbw = busbw / factor(RANKS)
            name = "collective/%s/%d" % (coll, size)
            out.append(result(name, "collective", {"collective": coll, "bytes": size, "ranks": RANKS},
                              size / algbw * slow.get(name, 1.0), n, 0.03, rng,
                              extra_rates={"algbw_bytes_per_s": size,
                                           "busbw_bytes_per_s": size * factor(RANKS)}))
    out = [r for r in out if r["name"] not in drop]
    if add_extra:
        out.append(result("gemm/bf16/4096x14336x4096", "gemm", {"dtype": "bf16", "m": 4096, "n": 14336, "k": 4096},
                          2.0 * 4096 * 14336 * 4096 / 700e12, n, 0.01, rng, flop=2.0 * 4096 * 14336 * 4096))
    if failed:
        for r in out:
            if r["name"] == failed:
                for k in ("samples", "stats", "rates"):
                    r.pop(k)
                r["status"] = "error"
                r["error"] = "CUBLAS_STATUS_NOT_SUPPORTED"
    return out


def calibrate_shape(results):
    """The layout `goodput calibrate` writes (harness/core/timing.cpp): raw samples in "samples_s",
    rates in "derived" (flops_per_s), peaks as {"flops": {"datasheet": {"value", "ratio"}}}."""
    out = []
    for r in results:
        if r["kind"] == "collective":
            continue
        d = {"name": r["name"], "kind": r["kind"], "status": "ok", "params": r["params"],
             "samples_s": r["samples"]["values"], "stats": r["stats"], "derived": {}, "peaks": {}}
        if "flop_per_s" in r["rates"] and r["kind"] == "gemm":
            d["derived"]["flops_per_s"] = r["rates"]["flop_per_s"]
            ds = {"bf16": 989.4e12, "fp16": 989.4e12, "fp8": 1978.9e12, "tf32": 494.7e12}[r["params"]["dtype"]]
            d["peaks"]["flops"] = {"dtype": r["params"]["dtype"], "spec_match": "exact",
                                   "datasheet": {"value": ds, "ratio": r["rates"]["flop_per_s"] / ds}}
        if "bytes_per_s" in r["rates"]:
            d["derived"]["bytes_per_s"] = r["rates"]["bytes_per_s"]
            if r["kind"] == "memory":
                d["peaks"]["bandwidth"] = {"datasheet": {"value": 3.35e12, "ratio": r["rates"]["bytes_per_s"] / 3.35e12}}
        out.append(d)
    out.append({"name": "gemm/fp64/16384x16384x16384", "kind": "gemm", "status": "skipped",
                "params": {"dtype": "fp64", "m": 16384, "n": 16384, "k": 16384},
                "reason": "does not fit in device memory", "samples_s": []})
    return out


def doc(results, device=H100, command="bench", version="1.0.0"):
    return {"schema": "goodput.results", "schema_version": version, "meta": meta(command),
            "devices": [device], "regime": {}, "results": results}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    target = "gemm/bf16/8192x8192x8192"
    files = {
        "baseline.json": doc(suite(1)),
        # A 5 % slower bf16 GEMM at 8192^3; everything else is new noise of the same spread.
        "current_regression.json": doc(suite(2, slow={target: 1.05})),
        "current_noise.json": doc(suite(3)),
        # 3 samples a side, with the same planted 5 %: too few to decide.
        "baseline_few.json": doc(suite(4, n=3)),
        "current_few.json": doc(suite(5, n=3, slow={target: 1.05})),
        "current_other_gpu.json": doc(suite(6), device=H100_PCIE),
        # One baseline benchmark missing, one new, one that failed.
        "current_unmatched.json": doc(suite(7, drop=("memory/write",), add_extra=True,
                                            failed="gemm/fp8/1024x1024x1024")),
    }
    small = suite(8)[:2]
    files["bad_schema_version.json"] = doc(small, version="2.0.0")
    files["old_schema_version.json"] = doc(small, version="0.9.0")
    files["empty_results.json"] = doc([])
    files["duplicate_names.json"] = doc([small[0], dict(small[0])])
    nan = json.loads(json.dumps(small))
    nan[1]["samples"]["values"][4] = None  # how a NaN time is written
    files["nan_time.json"] = doc(nan)
    neg = json.loads(json.dumps(small))
    neg[0]["samples"]["values"][2] = -0.001
    files["negative_time.json"] = doc(neg)
    files["not_results.json"] = {"benchmarks": []}
    files["calibrate_shape.json"] = doc(calibrate_shape(suite(9)), command="calibrate")
    for name, d in files.items():
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(d, f, indent=1, sort_keys=True)
            f.write("\n")
    with open(os.path.join(out_dir, "malformed.json"), "w") as f:
        f.write(json.dumps(doc(small), indent=1, sort_keys=True)[:700] + "\n")


if __name__ == "__main__":
    main()
