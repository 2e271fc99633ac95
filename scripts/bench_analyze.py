#!/usr/bin/env python3
"""`goodput analyze` against HolisticTraceAnalysis, side by side in one run, and at scale.

For each trace: run `goodput analyze FILE --json` and, in a fresh Python process, HTA's
TraceAnalysis(trace_dir) + get_temporal_breakdown() + get_comm_comp_overlap(), --repeat times
each, alternating. goodput is timed end to end (process wall time: start, read, analyse, report,
JSON); HTA is timed from inside its process over load + breakdown only (its interpreter start and
`import hta` are left out, in its favour). Peak memory is each process's peak RSS (wait4). Both
tools' idle / compute / non-compute / overlap percentages are recorded beside each other.

--big SIZE_MB also makes a synthetic trace of that size by replicating the steps of a real one
(scripts/make_big_trace.py) and times goodput on it (HTA is not run on it: --big-hta to try).

Writes a goodput results document (schema goodput.results; `results[]` hold the raw samples,
`analyze_benchmark` the ratios) and prints a Markdown table.

Usage:
  scripts/bench_analyze.py --goodput build/host/apps/goodput [--hta-python PY] \
      [--traces ../shared/traces] [--repeat 3] [--big 1024] [--out results/analyze/FILE.json]
HTA: `python3 -m venv V && V/bin/pip install holistictraceanalysis`, then --hta-python V/bin/python
(scripts/bench_analyze.sh does both).
"""
import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Traces HTA can read (the range-profiler trace has no kernels: both tools refuse it).
DEFAULT_TRACES = [
    "nccl_data.json.gz",
    "sampled_rank-0.json.gz",
    "sampled_rank-1.json.gz",
    "df_index_resolver.json.gz",
    "rank-0.Apr_03_18_51_38.1102.pt.trace.json.gz",
    "worker0.pt.trace.json.gz",
    "eager_trace.json.gz",
    "gaunernst_bert-small-uncased__1016001.json.gz",
    "Falconsai_nsfw_image_detection__1016002.json.gz",
    "dc3b0e7228dd_851.1752215573993169006.pt.trace.json",
]

HTA_CHILD = r"""
import json, sys, time, warnings, logging, platform
from importlib import metadata
warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)
import pandas
from hta.trace_analysis import TraceAnalysis
t0 = time.perf_counter()
a = TraceAnalysis(trace_dir=sys.argv[1])
t1 = time.perf_counter()
tb = a.get_temporal_breakdown(visualize=False)
try:
    ov = a.get_comm_comp_overlap(visualize=False)
    overlap = float(ov["comp_comm_overlap_pctg"].iloc[0])
except Exception:
    overlap = None
t2 = time.perf_counter()
r = tb.iloc[0]
print("HTA_RESULT " + json.dumps({
    "load_s": t1 - t0, "breakdown_s": t2 - t1,
    "idle_pct": float(r["idle_time_pctg"]), "compute_pct": float(r["compute_time_pctg"]),
    "non_compute_pct": float(r["non_compute_time_pctg"]),
    "overlap_pct": overlap if overlap == overlap else None,
    "versions": {"holistictraceanalysis": metadata.version("HolisticTraceAnalysis"),
                 "pandas": pandas.__version__, "python": platform.python_version()}}))
"""


def run_measured(cmd):
    """Run cmd; (exit code, stdout, stderr, wall seconds, the child's own peak RSS in bytes)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return p.returncode, fo.read(), fe.read(), wall, ru.ru_maxrss * 1024


def stats(xs):
    xs = sorted(xs)
    med = statistics.median(xs)
    mad = statistics.median([abs(x - med) for x in xs])
    return {"n": len(xs), "median": med, "mean": statistics.fmean(xs), "min": xs[0],
            "max": xs[-1], "stddev": statistics.pstdev(xs), "mad": mad,
            "rel_spread": 1.4826 * mad / med if med > 0 else 0.0}


def goodput_once(goodput, path, extra=()):
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "a.json")
        rc, out, err, wall, rss = run_measured([goodput, "analyze", path, "--json", js, *extra])
        if rc != 0:
            return {"error": (err or out).strip().splitlines()[-1] if (err or out) else f"exit {rc}"}
        with open(js) as f:
            doc = json.load(f)
    rank = doc["analysis"]["ranks"][0]
    h = rank["hta_compatible"]
    timing = doc["analysis"].get("timing", {})
    return {"wall_s": wall, "peak_rss_bytes": rss, "schema_version": doc["schema_version"],
            "inprocess_s": timing.get("read_seconds", 0) + timing.get("analysis_seconds", 0),
            "json_bytes": doc["analysis"]["inputs"][0]["json_bytes"],
            "read_seconds": doc["analysis"]["inputs"][0]["read_seconds"],
            "idle_pct": h["idle_pct"], "compute_pct": h["compute_pct"],
            "non_compute_pct": h["non_compute_pct"], "overlap_pct": h["comm_comp_overlap_pct"]}


def hta_once(python, path):
    with tempfile.TemporaryDirectory() as d:
        os.symlink(os.path.abspath(path), os.path.join(d, os.path.basename(path)))
        rc, out, err, wall, rss = run_measured([python, "-c", HTA_CHILD, d])
    line = next((l for l in out.splitlines() if l.startswith("HTA_RESULT ")), None)
    if rc != 0 or line is None:
        tail = (err or out).strip().splitlines()
        return {"error": tail[-1] if tail else f"exit {rc}"}
    r = json.loads(line[len("HTA_RESULT "):])
    r["wall_s"] = r["load_s"] + r["breakdown_s"]
    r["process_wall_s"] = wall
    r["peak_rss_bytes"] = rss
    return r


def entry(name, tool, trace, runs):
    ok = [r for r in runs if "error" not in r]
    e = {"name": name, "kind": "host_benchmark", "params": {"tool": tool, "trace": trace}}
    if not ok:
        e.update(status="error", error=runs[0]["error"] if runs else "not run")
        return e
    e["status"] = "ok"
    e["samples_s"] = [r["wall_s"] for r in ok]
    e["stats"] = stats(e["samples_s"])
    if "versions" in ok[0]:
        e["params"]["versions"] = ok[0]["versions"]
    e["details"] = {"peak_rss_bytes": [r["peak_rss_bytes"] for r in ok],
                    "breakdown": {k: ok[0].get(k) for k in
                                  ("idle_pct", "compute_pct", "non_compute_pct", "overlap_pct")}}
    for k in ("json_bytes", "read_seconds", "inprocess_s", "load_s", "breakdown_s",
              "process_wall_s"):
        if k in ok[0]:
            e["details"][k] = [r[k] for r in ok] if k != "json_bytes" else ok[0][k]
    return e


def meta(goodput, argv, start):
    try:
        # "goodput 0.1.0 (git <sha>[, dirty])"
        version = subprocess.run([goodput, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.split()[1]
    except (OSError, subprocess.SubprocessError, IndexError):
        version = "unknown"
    try:
        sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", ROOT, "status", "--porcelain"],
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        sha, dirty = "", False
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"tool": "goodput", "tool_version": version, "git_sha": sha, "git_dirty": dirty,
            "command": "bench-analyze", "argv": argv, "start_time": start,
            "end_time": None, "status": "running",
            "host": {"hostname": socket.gethostname(), "os": platform.platform(),
                     "machine": platform.machine(), "cpu": cpu, "cpus": os.cpu_count() or 0},
            "environment": {}}


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--goodput", required=True, help="the goodput binary")
    ap.add_argument("--hta-python", help="a Python with holistictraceanalysis installed")
    ap.add_argument("--traces", default=os.path.join(ROOT, "..", "shared", "traces"))
    ap.add_argument("--files", nargs="*", help="trace file names inside --traces")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", type=float, default=0, help="also a synthetic trace of this many MB")
    ap.add_argument("--big-source", default="df_index_resolver.json.gz")
    ap.add_argument("--big-hta", action="store_true", help="run HTA on the big trace too")
    ap.add_argument("--work", default=tempfile.gettempdir(), help="where the big trace goes")
    ap.add_argument("--out", help="results document to write")
    a = ap.parse_args()
    if not os.path.isdir(a.traces):
        sys.exit(f"{a.traces}: no such folder (the shared real traces)")

    doc = {"schema": "goodput.results", "schema_version": "1.0.0",
           "meta": meta(a.goodput, sys.argv, now()), "devices": [], "results": []}
    rows, ok_runs = [], []
    for name in a.files or DEFAULT_TRACES:
        path = os.path.join(a.traces, name)
        if not os.path.exists(path):
            print(f"skip {name}: not in {a.traces}", file=sys.stderr)
            continue
        g, h = [], []
        for _ in range(a.repeat):
            g.append(goodput_once(a.goodput, path))
            ok_runs.append(g[-1])
            if a.hta_python:
                h.append(hta_once(a.hta_python, path))
        ge, he = entry("analyze", "goodput", name, g), entry("analyze", "hta", name, h)
        doc["results"].append(ge)
        if a.hta_python:
            doc["results"].append(he)
        rows.append(ratio_row(name, ge, he if a.hta_python else None))
        print(fmt_row(rows[-1]), file=sys.stderr)

    big = None
    if a.big > 0:
        src = os.path.join(a.traces, a.big_source)
        out = os.path.join(a.work, f"goodput-big-{int(a.big)}mb.json")
        if not os.path.exists(out):
            subprocess.run([sys.executable, os.path.join(HERE, "make_big_trace.py"), src, out,
                            "--size-mb", str(a.big)], check=True)
        g = [goodput_once(a.goodput, out) for _ in range(a.repeat)]
        ge = entry("analyze_big", "goodput", os.path.basename(out), g)
        ge["params"]["synthetic_from"] = a.big_source
        doc["results"].append(ge)
        he = None
        if a.big_hta and a.hta_python:
            he = entry("analyze_big", "hta", os.path.basename(out), [hta_once(a.hta_python, out)])
            doc["results"].append(he)
        big = ratio_row(os.path.basename(out) + " (synthetic)", ge, he)
        print(fmt_row(big), file=sys.stderr)

    doc["analyze_benchmark"] = {
        "what": "goodput analyze (process wall time, end to end) vs HolisticTraceAnalysis "
                "(load + temporal breakdown + overlap, inside its process); also goodput's own "
                "read + analysis time (in-process, as HTA's is measured) and HTA's whole process; "
                "peak RSS of each process; medians of the repeats",
        "hta_versions": next((r["params"]["versions"] for r in doc["results"]
                              if r["params"].get("tool") == "hta" and
                              "versions" in r["params"]), None),
        "repeat": a.repeat, "traces": rows, "big": big,
        "goal": {"speedup_min": 50, "memory_ratio_max": 0.25, "big_seconds_max": 10}}
    ok = [r for r in rows if r.get("speedup")]
    if ok:
        doc["analyze_benchmark"]["speedup_geomean"] = statistics.geometric_mean(
            [r["speedup"] for r in ok])
        doc["analyze_benchmark"]["speedup_process_geomean"] = statistics.geometric_mean(
            [r["speedup_process"] for r in ok])
        if all(r.get("speedup_inprocess") for r in ok):
            doc["analyze_benchmark"]["speedup_inprocess_geomean"] = statistics.geometric_mean(
                [r["speedup_inprocess"] for r in ok])
        for k in ("speedup", "speedup_inprocess", "speedup_process"):
            if all(r.get(k) for r in ok):
                doc["analyze_benchmark"][k + "_min"] = min(r[k] for r in ok)
        doc["analyze_benchmark"]["memory_ratio_max"] = max(r["memory_ratio"] for r in ok)
    # The schema version goodput itself writes.
    versions = [r.get("schema_version") for r in ok_runs if r.get("schema_version")]
    if versions:
        doc["schema_version"] = versions[0]
    doc["meta"]["end_time"] = now()
    doc["meta"]["status"] = "complete"
    text = json.dumps(doc, indent=1)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(markdown(rows, big, doc["analyze_benchmark"]))


def ratio_row(name, ge, he):
    r = {"trace": name}
    if ge.get("status") != "ok":
        r["goodput_error"] = ge.get("error")
        return r
    gd = ge["details"]
    r.update(json_mb=gd["json_bytes"] / 1e6, goodput_s=ge["stats"]["median"],
             goodput_peak_mb=max(gd["peak_rss_bytes"]) / 1e6, goodput=gd["breakdown"])
    if all(gd.get("inprocess_s") or [0]):
        r["goodput_inprocess_s"] = statistics.median(gd["inprocess_s"])
    if he is None:
        return r
    if he.get("status") != "ok":
        r["hta_error"] = he.get("error")
        return r
    hd = he["details"]
    r.update(hta_s=he["stats"]["median"], hta_peak_mb=max(hd["peak_rss_bytes"]) / 1e6,
             hta=hd["breakdown"])
    r["speedup"] = r["hta_s"] / r["goodput_s"]
    # In-process against in-process: goodput's read + analysis, HTA's load + breakdown.
    if r.get("goodput_inprocess_s"):
        r["speedup_inprocess"] = r["hta_s"] / r["goodput_inprocess_s"]
    # Process to process: what a user waits for, HTA's interpreter start and imports included.
    r["hta_process_s"] = statistics.median(hd["process_wall_s"])
    r["speedup_process"] = r["hta_process_s"] / r["goodput_s"]
    r["memory_ratio"] = r["goodput_peak_mb"] / r["hta_peak_mb"]
    r["max_abs_diff_pp"] = max(abs((r["goodput"][k] or 0) - (r["hta"][k] or 0))
                              for k in ("idle_pct", "compute_pct", "non_compute_pct",
                                        "overlap_pct"))
    return r


def fmt_row(r):
    inproc = "%.3f" % r["goodput_inprocess_s"] if r.get("goodput_inprocess_s") else "–"
    if "speedup" in r:
        sp_in = "%.0f×" % r["speedup_inprocess"] if r.get("speedup_inprocess") else "–"
        return ("| %s | %.1f | %.3f | %s | %.3f | %.0f× | %s | %.3f | %.0f× | %.0f | %.0f | %.2f "
                "| %.2f |" %
                (r["trace"], r["json_mb"], r["goodput_s"], inproc, r["hta_s"], r["speedup"],
                 sp_in, r["hta_process_s"], r["speedup_process"], r["goodput_peak_mb"],
                 r["hta_peak_mb"], r["memory_ratio"], r["max_abs_diff_pp"]))
    if "goodput_s" in r:
        return ("| %s | %.1f | %.3f | %s | %s | | | | | %.0f | | | |" %
                (r["trace"], r["json_mb"], r["goodput_s"], inproc, r.get("hta_error", "–"),
                 r["goodput_peak_mb"]))
    return "| %s | | error: %s | | | | | | | | | | |" % (r["trace"], r.get("goodput_error"))


def markdown(rows, big, summary):
    head = ("| trace | JSON MB | goodput s | goodput in-process s | HTA s | speed-up "
            "| speed-up (in-process) | HTA process s | speed-up (process) | goodput MB | HTA MB "
            "| memory ratio | max Δ pp |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head] + [fmt_row(r) for r in rows]
    if big:
        lines.append(fmt_row(big))
    if "speedup_geomean" in summary:
        lines.append("\nspeed-up geometric mean %.0f× (in-process %s, process to process %.0f×), "
                     "smallest %.0f× (in-process %s, process %.0f×), largest memory ratio %.2f" %
                     (summary["speedup_geomean"],
                      "%.0f×" % summary["speedup_inprocess_geomean"]
                      if "speedup_inprocess_geomean" in summary else "–",
                      summary["speedup_process_geomean"], summary["speedup_min"],
                      "%.0f×" % summary["speedup_inprocess_min"]
                      if "speedup_inprocess_min" in summary else "–",
                      summary["speedup_process_min"], summary["memory_ratio_max"]))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
