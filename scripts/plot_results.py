#!/usr/bin/env python3
"""Pictures of goodput results files, as PNG and SVG.

    scripts/plot_results.py RESULTS.json [MORE.json ...] [--compare COMPARE.json]
                            [--out DIR] [--formats png,svg]

Draws what the files hold:
  roofline     measured kernels (FLOP/s vs FLOP/byte) under the card's measured and datasheet ceilings
  gemm         GEMM TFLOP/s vs problem size, one line per data type
  collectives  bus bandwidth vs message size, one line per collective
  compare      change of each benchmark's median time with its confidence interval, coloured by
               verdict (from `goodput compare --json`; a compare file may also be given positionally)
and writes DIR/manifest.json listing them. Exit 2 on unreadable input.
"""
import argparse
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

plt.rcParams.update({
    "svg.fonttype": "none",     # text stays text: searchable, small, selectable in the report
    "svg.hashsalt": "goodput",  # stable ids, so the same input gives the same file
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 110,
})

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
MARKERS = ["o", "^", "D", "v", "P", "X", "<", ">"]
VERDICT_COLORS = {"slower": "#d62728", "faster": "#2ca02c", "same": "#7f7f7f", "inconclusive": "#e0a000"}
OK_STATUS = {"ok", "complete", "completed", "passed", "success"}


class InputProblem(Exception):
    pass


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise InputProblem("%s: cannot open (%s)" % (path, e.strerror))
    except json.JSONDecodeError as e:
        raise InputProblem("%s: malformed JSON at line %d column %d: %s" % (path, e.lineno, e.colno, e.msg))
    if not isinstance(doc, dict) or doc.get("schema") != "goodput.results":
        raise InputProblem("%s: not a goodput results document (field 'schema')" % path)
    version = str(doc.get("schema_version", ""))
    if not version.startswith("1."):
        raise InputProblem("%s: schema_version %r is not supported (this script reads 1.x)" % (path, version))
    return doc


def rates(r):
    """Rates from "rates" or "derived"; flops_per_s and flop_per_s are the same thing."""
    out = {}
    for section in ("derived", "rates"):
        for k, v in (r.get(section) or {}).items():
            if isinstance(v, (int, float)) and math.isfinite(v) and v > 0:
                out["flop_per_s" if k == "flops_per_s" else k] = float(v)
    return out


def measured(doc):
    for r in doc.get("results") or []:
        if isinstance(r, dict) and r.get("status", "ok") in OK_STATUS:
            yield r, r.get("params") or {}, rates(r)


def first(d, keys):
    for k in keys:
        if isinstance(d.get(k), (int, float)):
            return float(d[k])
    return None


def spec_file():
    here = os.path.dirname(os.path.abspath(__file__))
    for p in (os.environ.get("GOODPUT_DATA_DIR", ""), here, os.path.join(here, "..", "results")):
        f = os.path.join(p, "gpu_specs.json")
        if p and os.path.exists(f):
            return f
    return None


def norm(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def datasheet(doc):
    """(per-dtype FLOP/s, HBM bytes/s) from the spec data for the file's first device, if known."""
    devs = doc.get("devices") or []
    path = spec_file()
    if not devs or not path:
        return {}, None
    dev = devs[0]
    with open(path) as f:
        specs = json.load(f)
    for g in specs.get("gpus", []):
        if any(norm(a) == norm(dev.get("name", "")) for a in g.get("device_names", [])) and g.get("sms") == dev.get("sms"):
            flops = {k: v * 1e12 for k, v in g.get("datasheet_tflops", {}).items()}
            bw = g.get("memory_bandwidth_gbps")
            return flops, bw * 1e9 if bw else None
    return {}, None


def spec_dtype(d):
    d = str(d).lower()
    if d.startswith("fp8") or "e4m3" in d or "e5m2" in d:
        return "fp8"
    return {"half": "fp16", "bfloat16": "bf16", "float": "fp32", "float32": "fp32", "double": "fp64"}.get(d, d)


def bytes_label(b, _pos=None):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            v = b / scale
            return ("%d %s" if v == int(v) else "%.1f %s") % (v, unit)
    return "%d B" % b


def finish_sweep(ax, fig, xlabel, ylabel, title, legend_title, out, formats, made, name, caption):
    """Common ending of the line plots over a size sweep."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(title=legend_title, fontsize=8)
    save(fig, out, name, formats, made, caption)


def save(fig, out, name, formats, made, title):
    files = []
    for fmt in formats:
        p = os.path.join(out, "%s.%s" % (name, fmt))
        fig.savefig(p, format=fmt, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None)
        files.append(p)
    plt.close(fig)
    made.append({"name": name, "title": title, "files": files})


def device_name(doc):
    devs = doc.get("devices") or []
    return devs[0].get("name", "?") if devs else "unknown device"


def plot_roofline(doc, out, formats, made):
    pts = {}
    mem_best = None
    for r, p, rt in measured(doc):
        if r.get("kind") == "memory" and "bytes_per_s" in rt:
            mem_best = max(mem_best or 0, rt["bytes_per_s"])
        if "flop_per_s" in rt and "bytes_per_s" in rt:
            dt = spec_dtype(p.get("dtype", "fp64" if r.get("kind") == "memory" else "?"))
            pts.setdefault(dt, []).append((rt["flop_per_s"] / rt["bytes_per_s"], rt["flop_per_s"], r.get("kind", "")))
    if not pts:
        return
    ds_flops, ds_bw = datasheet(doc)
    fig, ax = plt.subplots(figsize=(9.5, 5.4))
    xs = [x for v in pts.values() for x, _, _ in v]
    lo, hi = min(xs) / 4, max(xs) * 4
    # Compute roofs: measured = best FLOP/s of that type's compute kernels; datasheet from spec data.
    roofs = []
    for i, (dt, v) in enumerate(sorted(pts.items())):
        c = COLORS[i % len(COLORS)]
        compute = [(x, y) for x, y, k in v if k != "memory"]
        memory = [(x, y) for x, y, k in v if k == "memory"]
        if compute:
            ax.scatter(*zip(*compute), color=c, marker=MARKERS[i % len(MARKERS)], s=26, zorder=3,
                       alpha=0.85, label="%s kernels" % dt)
            roofs.append((dt, c, max(y for _, y in compute), "-", "measured"))
            if dt in ds_flops:
                roofs.append((dt, c, ds_flops[dt], "--", "datasheet"))
        if memory:
            ax.scatter(*zip(*memory), color="#000000", marker="s", s=28, zorder=3, label="memory kernels")
    top = max(r[2] for r in roofs) if roofs else max(y for v in pts.values() for _, y, _ in v)
    for bw, ls, what in ((mem_best, "-", "measured"), (ds_bw, "--", "datasheet")):
        if bw:
            x_end = min(hi, top * 1.05 / bw)
            ax.plot([lo, x_end], [bw * lo, bw * x_end], color="#000000", ls=ls, lw=1.2,
                    label="HBM %s %.2f TB/s" % (what, bw / 1e12))
    for dt, c, peak, ls, what in roofs:
        bw = (mem_best if what == "measured" else ds_bw) or mem_best or ds_bw
        x0 = peak / bw if bw else lo
        ax.plot([x0, hi], [peak, peak], color=c, ls=ls, lw=1.3 if ls == "-" else 1.0,
                label="%s %s %.0f TFLOP/s" % (dt, what, peak / 1e12))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: "%g" % (y / 1e12)))
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("TFLOP/s")
    ax.set_title("Roofline, %s (solid: measured ceilings, dashed: datasheet)" % device_name(doc))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    save(fig, out, "roofline", formats, made, "Roofline: measured kernels vs measured and datasheet ceilings")


def gemm_size(p):
    m, n, k = (first(p, [key]) for key in ("m", "n", "k"))
    if m and n and k:
        return (m * n * k) ** (1 / 3), m == n == k
    return first(p, ["size"]), True


def plot_gemm(doc, out, formats, made):
    lines = {}
    for r, p, rt in measured(doc):
        if r.get("kind") != "gemm" or "flop_per_s" not in rt:
            continue
        size, square = gemm_size(p)
        if size and square:
            lines.setdefault(str(p.get("dtype", "?")), []).append((size, rt["flop_per_s"]))
    if not lines:
        return
    ds_flops, _ = datasheet(doc)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ds_lines = {}  # datasheet value -> (colour, dtypes): types with the same peak share one line
    for i, (dt, v) in enumerate(sorted(lines.items())):
        c = COLORS[i % len(COLORS)]
        v.sort()
        ax.plot([s for s, _ in v], [f / 1e12 for _, f in v], marker=MARKERS[i % len(MARKERS)], color=c, label=dt)
        s, f = v[-1]
        ax.annotate("%.0f" % (f / 1e12), (s, f / 1e12), textcoords="offset points", xytext=(7, 8 - 9 * (i % 3)),
                    fontsize=7, color=c)
        ds = ds_flops.get(spec_dtype(dt))
        if ds:
            ds_lines.setdefault(ds, (c, v[0][0], []))[2].append(dt)
    for ds, (c, x0, dts) in ds_lines.items():
        ax.axhline(ds / 1e12, color=c, ls="--", lw=0.9, alpha=0.8)
        ax.annotate("%s datasheet %.0f" % (", ".join(dts), ds / 1e12), (x0, ds / 1e12), textcoords="offset points",
                    xytext=(0, 3), fontsize=7, color=c)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: "%d" % x))
    finish_sweep(ax, fig, "square problem size M = N = K", "TFLOP/s (dense)",
                 "GEMM throughput by data type, %s (dashed: datasheet)" % device_name(doc), "data type",
                 out, formats, made, "gemm", "GEMM TFLOP/s vs size per data type")


def plot_collectives(doc, out, formats, made):
    lines = {}
    for r, p, rt in measured(doc):
        kind = str(r.get("kind", ""))
        if "collective" not in kind and "nccl" not in kind:
            continue
        busbw = first(rt, ["busbw_bytes_per_s", "busbw"])
        size = first(p, ["bytes", "size_bytes", "message_bytes", "size"])
        if busbw and size:
            name = p.get("collective") or p.get("op") or r.get("name", "?").split("/")[1 if "/" in r.get("name", "") else 0]
            lines.setdefault(str(name), []).append((size, busbw))
    if not lines:
        return
    fig, ax = plt.subplots(figsize=(8, 4.8))
    sizes = sorted({s for v in lines.values() for s, _ in v})
    for i, (name, v) in enumerate(sorted(lines.items())):
        v.sort()
        c = COLORS[i % len(COLORS)]
        ax.plot([s for s, _ in v], [b / 1e9 for _, b in v], marker=MARKERS[i % len(MARKERS)], color=c, label=name)
        s, b = v[-1]
        ax.annotate("%.0f GB/s" % (b / 1e9), (s, b / 1e9), textcoords="offset points", xytext=(-58, 4 - 11 * i),
                    fontsize=7, color=c)
    ax.set_xscale("log", base=2)
    step = max(1, len(sizes) // 12)
    ax.set_xticks(sizes[::step])
    ax.xaxis.set_major_formatter(FuncFormatter(bytes_label))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    finish_sweep(ax, fig, "message size", "bus bandwidth (GB/s)",
                 "Collectives: bus bandwidth vs message size, %s" % device_name(doc), "collective",
                 out, formats, made, "collectives", "Bus bandwidth vs message size per collective")


def plot_compare(doc, out, formats, made):
    cmp = doc.get("comparison") or {}
    entries = cmp.get("entries") or []
    if not entries:
        return
    entries = sorted(entries, key=lambda e: e.get("change", 0))
    n = len(entries)
    fig, ax = plt.subplots(figsize=(8.5, max(2.5, 0.5 + 0.19 * n)))
    for i, e in enumerate(entries):
        c = VERDICT_COLORS.get(e.get("verdict"), "#333333")
        ch, ci = 100 * e.get("change", 0), e.get("ci") or {}
        lo, hi = 100 * ci.get("lo", e.get("change", 0)), 100 * ci.get("hi", e.get("change", 0))
        ax.plot([lo, hi], [i, i], color=c, lw=2.2, alpha=0.55, solid_capstyle="butt")
        ax.plot([ch], [i], "o", color=c, ms=4)
        thr = 100 * e.get("threshold", 0)
        ax.plot([-thr, thr], [i, i], color="#000000", lw=0.5, alpha=0.25)
    thr = 100 * ((cmp.get("options") or {}).get("thresholds") or {}).get("default", 0.03)
    for x in (-thr, thr):
        ax.axvline(x, color="#555555", ls="--", lw=0.8)
    ax.axvline(0, color="#000000", lw=0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([e.get("name", "?") for e in entries], fontsize=6.5)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlabel("change of the median time, %% (positive = slower); bars: %.0f%% confidence interval"
                  % (100 * (cmp.get("options") or {}).get("confidence", 0.95)))
    s = cmp.get("summary") or {}
    ax.set_title("Compared with the baseline: %d slower, %d faster, %d same, %d inconclusive"
                 % (s.get("slower", 0), s.get("faster", 0), s.get("same", 0), s.get("inconclusive", 0)))
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v) for v, c in VERDICT_COLORS.items()]
    handles.append(plt.Line2D([], [], color="#555555", ls="--", label="±%.0f%% threshold" % thr))
    handles.append(plt.Line2D([], [], color="#000000", lw=0.5, alpha=0.4, label="its threshold (noise floor)"))
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.grid(axis="y", alpha=0.15)
    save(fig, out, "compare", formats, made, "Changes against the baseline with confidence intervals")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="goodput results files")
    ap.add_argument("--compare", help="output of `goodput compare --json`")
    ap.add_argument("--out", default=".", help="folder for the pictures (default: .)")
    ap.add_argument("--formats", default="png,svg", help="comma-separated: png, svg (default: both)")
    a = ap.parse_args(argv)
    formats = [f.strip() for f in a.formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("png", "svg")]
    if bad or not formats:
        print("plot_results: --formats: unsupported %s (png, svg)" % ",".join(bad), file=sys.stderr)
        return 2
    try:
        docs = [load(f) for f in a.files]
        cmp_docs = [d for d in docs if "comparison" in d]
        if a.compare:
            cmp_docs.append(load(a.compare))
    except InputProblem as e:
        print("plot_results: %s" % e, file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    # Results of several files are drawn together (e.g. calibrate + collectives of one node).
    merged = {"devices": next((d.get("devices") for d in docs if d.get("devices")), []),
              "results": [r for d in docs if "comparison" not in d for r in d.get("results") or []]}
    made = []
    plot_roofline(merged, a.out, formats, made)
    plot_gemm(merged, a.out, formats, made)
    plot_collectives(merged, a.out, formats, made)
    for d in cmp_docs[:1]:
        plot_compare(d, a.out, formats, made)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump({"pictures": made}, f, indent=1)
    for m in made:
        print("\n".join(m["files"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
