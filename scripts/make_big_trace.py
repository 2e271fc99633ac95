#!/usr/bin/env python3
"""Make a large SYNTHETIC Kineto trace by replicating the steps of a real one, for the
`goodput analyze` scale benchmark (scripts/bench_analyze.py).

Copy k of the source's trace events is shifted in time by k * (span + 1 ms) and has its
correlation / External id / flow ids offset so that every copy links only to itself;
"ProfilerStep#N" becomes "ProfilerStep#(N + k * steps)". The top-level keys (deviceProperties,
distributedInfo, ...) are kept once and the file metadata says it is synthetic.

Usage: scripts/make_big_trace.py SOURCE.json[.gz] OUTPUT.json --size-mb 1024
Writes one event per line; stdlib only.
"""
import argparse
import gzip
import json
import re
import sys

ID_ARGS = ("correlation", "External id", "Ev Idx", "Python id", "Python parent id")
STEP = re.compile(r"^ProfilerStep#(\d+)$")


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def shifted(ev, k, dt_us, id_step, step_count, fractional):
    e = dict(ev)
    if "ts" in e and k:
        e["ts"] = e["ts"] + k * dt_us if not fractional else round(e["ts"] + k * dt_us, 3)
    if "id" in e and isinstance(e["id"], int):
        e["id"] = e["id"] + k * id_step
    args = e.get("args")
    if isinstance(args, dict) and k:
        args = dict(args)
        for key in ID_ARGS:
            if isinstance(args.get(key), int) and args[key] >= 0:
                args[key] = args[key] + k * id_step
        e["args"] = args
    m = STEP.match(e.get("name", ""))
    if m and k:
        e["name"] = "ProfilerStep#%d" % (int(m.group(1)) + k * step_count)
    return e


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("output")
    ap.add_argument("--size-mb", type=float, default=1024)
    a = ap.parse_args()

    doc = load(a.source)
    events = doc.pop("traceEvents")
    timed = [e for e in events if e.get("ph") != "M" and "ts" in e]
    t0 = min(e["ts"] for e in timed)
    t1 = max(e["ts"] + e.get("dur", 0) for e in timed)
    fractional = any(isinstance(e["ts"], float) for e in timed)
    dt_us = (t1 - t0) + 1000
    max_id = 0
    for e in events:
        if isinstance(e.get("id"), int):
            max_id = max(max_id, e["id"])
        for key in ID_ARGS:
            v = e.get("args", {}).get(key)
            if isinstance(v, int):
                max_id = max(max_id, v)
    id_step = max_id + 1
    steps = {int(m.group(1)) for e in events if (m := STEP.match(e.get("name", "")))}
    step_count = (max(steps) - min(steps) + 1) if steps else 0

    once = [json.dumps(e, separators=(",", ":")) for e in events if e.get("ph") == "M"]
    body = [e for e in events if e.get("ph") != "M"]
    src_bytes = sum(len(json.dumps(e, separators=(",", ":"))) + 2 for e in body)
    copies = max(1, int(a.size_mb * 1e6 // src_bytes))

    doc["goodput_synthetic"] = {
        "what": "synthetic: steps of a real trace replicated for a scale benchmark",
        "source": a.source.rsplit("/", 1)[-1],
        "copies": copies,
    }
    with open(a.output, "w") as out:
        out.write("{\n")
        for key, val in doc.items():
            out.write('"%s": %s,\n' % (key, json.dumps(val)))
        out.write('"traceEvents": [\n')
        first = True
        for line in once:
            out.write(("" if first else ",\n") + line)
            first = False
        for k in range(copies):
            for e in body:
                line = json.dumps(shifted(e, k, dt_us, id_step, step_count, fractional),
                                  separators=(",", ":"))
                out.write(("" if first else ",\n") + line)
                first = False
            print("copy %d/%d" % (k + 1, copies), file=sys.stderr, end="\r")
        out.write("\n]}\n")
    print("\nwrote %s: %d copies of %s" % (a.output, copies, a.source), file=sys.stderr)


if __name__ == "__main__":
    main()
