#!/usr/bin/env python3
"""`goodput collectives` against the plain NCCL loop (goodput_nccl_direct), from the files
scripts/gpu/device_check.sh writes: collectives-<round>.json and nccl-direct-<round>.jsonl.

    scripts/gpu/compare_nccl.py DIR [--json OUT]

Per collective and size: each tool's median latency in every round, the ratio goodput / direct
(the median of the rounds' ratios), and each tool's slowest round / fastest round, which is the
noise the comparison is read against. Exit 0 always when the files parse; the verdict is in the output.
"""

import argparse
import glob
import json
import math
import os
import statistics
import sys


def load_goodput(path):
    doc = json.load(open(path))
    out = {}
    for r in doc.get("results", []):
        p = r.get("params", {})
        if r.get("status") != "ok" or p.get("placement") != "out-of-place":
            continue
        out[(p["collective"], p["size_bytes"])] = {"median": r["stats"]["median"], "count": p["count"]}
    return out


def load_direct(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)
            out[(r["collective"], r["size_bytes"])] = {"median": r["median_s"], "count": r["count"]}
    return out


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--json", help="write the table here")
    a = ap.parse_args()
    rounds = sorted({os.path.basename(p).split("-")[1].split(".")[0]
                     for p in glob.glob(os.path.join(a.dir, "collectives-*.json"))})
    g = {r: load_goodput(os.path.join(a.dir, f"collectives-{r}.json")) for r in rounds}
    d = {r: load_direct(os.path.join(a.dir, f"nccl-direct-{r}.jsonl")) for r in rounds
         if os.path.exists(os.path.join(a.dir, f"nccl-direct-{r}.jsonl"))}
    if not g or not d:
        sys.exit("compare_nccl.py: need collectives-<round>.json and nccl-direct-<round>.jsonl")
    keys = sorted(set.intersection(*[set(v) for v in g.values()], *[set(v) for v in d.values()]),
                  key=lambda k: (k[0], k[1]))
    rows = []
    for k in keys:
        counts = {g[r][k]["count"] for r in g} | {d[r][k]["count"] for r in d}
        ratios = [g[r][k]["median"] / d[r][k]["median"] for r in rounds if r in d]
        row = {"collective": k[0], "size_bytes": k[1], "counts_agree": len(counts) == 1,
               "goodput_s": [g[r][k]["median"] for r in rounds],
               "direct_s": [d[r][k]["median"] for r in rounds if r in d],
               "ratio": statistics.median(ratios)}
        if len(rounds) > 1:  # each tool against itself: slowest round / fastest round
            row["goodput_self"] = max(row["goodput_s"]) / min(row["goodput_s"])
            row["direct_self"] = max(row["direct_s"]) / min(row["direct_s"])
        rows.append(row)
    print(f"{'collective':15} {'bytes':>10} {'goodput us':>11} {'direct us':>10} {'ratio':>7} "
          f"{'g self':>7} {'d self':>7}")
    for r in rows:
        print(f"{r['collective']:15} {r['size_bytes']:10d} {statistics.median(r['goodput_s']) * 1e6:11.2f} "
              f"{statistics.median(r['direct_s']) * 1e6:10.2f} {r['ratio']:7.3f} "
              f"{r.get('goodput_self', float('nan')):7.3f} {r.get('direct_self', float('nan')):7.3f}"
              + ("" if r["counts_agree"] else "  COUNTS DIFFER"))
    summary = {"cases": len(rows), "geomean_ratio": geomean([r["ratio"] for r in rows]),
               "within_1pct": sum(abs(r["ratio"] - 1) <= 0.01 for r in rows),
               "counts_disagree": sum(not r["counts_agree"] for r in rows)}
    if len(rounds) > 1:
        summary["self_spread_goodput_geomean"] = geomean([r["goodput_self"] for r in rows])
        summary["self_spread_direct_geomean"] = geomean([r["direct_self"] for r in rows])
    by_coll = {}
    for r in rows:
        by_coll.setdefault(r["collective"], []).append(r["ratio"])
    summary["geomean_ratio_by_collective"] = {c: geomean(v) for c, v in by_coll.items()}
    print(json.dumps(summary, indent=1))
    if a.json:
        json.dump({"summary": summary, "rows": rows}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
