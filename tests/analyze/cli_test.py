#!/usr/bin/env python3
"""`goodput analyze` end to end through the binary: exit codes, error messages that name the file
and the cause, and a results document that says how the run ended, for good and bad input.

    cli_test.py GOODPUT_BINARY EXAMPLE_TRACE
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compare"))
from checks import check, finish  # noqa: E402

goodput, example = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="goodput_analyze_cli_")


def path(name):
    return os.path.join(tmp, name)


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path(name), mode) as f:
        f.write(data)
    return path(name)


def run(*args):
    out = path("r.json")
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([goodput, "analyze", *args, "--json", out], capture_output=True, text=True)
    doc = json.load(open(out)) if os.path.exists(out) else None
    return p.returncode, p.stdout, p.stderr, doc


def bad(label, args, *needles):
    """A bad input: exit 2, one message naming every needle, a document marked failed."""
    rc, _, err, doc = run(*args)
    check(rc == 2, "%s: exit 2 (got %d: %s)" % (label, rc, err.strip()))
    for n in needles:
        check(n in err, "%s: message names %r (%s)" % (label, n, err.strip()))
    check(doc is not None and doc["meta"]["status"] == "failed", "%s: results document says failed" % label)
    if doc is not None:
        check(all(n in doc["meta"].get("error", "") for n in needles), "%s: document keeps the message" % label)


try:
    rc, out, err, doc = run(example)
    check(rc == 0, "example trace: exit 0 (got %d: %s)" % (rc, err.strip()))
    check(doc is not None and doc["meta"]["status"] == "complete", "example trace: document complete")
    if doc is not None:
        t = doc["analysis"]["timing"]
        check(t["read_seconds"] > 0 and t["analysis_seconds"] > 0, "timing recorded %s" % t)
        check(len(doc["analysis"]["ranks"]) == 1, "one rank")

    events = json.dumps({"traceEvents": [
        {"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 2, "pid": 0, "tid": 7,
         "args": {"correlation": 1}}]})
    bad("not JSON", [write("hello.json", "hello\n")], "hello.json", "byte 0", "not JSON")
    bad("empty file", [write("empty.json", "")], "empty.json", "empty file")
    bad("missing file", [path("nowhere.json")], "nowhere.json", "no such file")
    bad("truncated JSON", [write("cut.json", events[: len(events) // 2])], "cut.json", "byte ",
        "truncated")
    whole = gzip.compress(json.dumps({"traceEvents": [
        {"ph": "X", "cat": "kernel", "name": "gemm_%d" % i, "ts": i * 10, "dur": 5, "pid": 0,
         "tid": 7, "args": {"correlation": i}} for i in range(20000)]}).encode())
    bad("truncated gzip", [write("cut.json.gz", whole[: len(whole) // 2])], "cut.json.gz",
        "bad gzip data")
    bad("negative duration", [write("neg.json", events.replace('"dur": 2', '"dur": -2'))],
        "neg.json", "negative")
    bad("no GPU events", [write("cpu.json", json.dumps({"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1, "dur": 2, "pid": 0, "tid": 1}]}))],
        "cpu.json", "no GPU events")
    bad("bad rules file", [example, "--rules", write("bad.rules", "# comment\ngemm (unclosed\n")],
        "bad.rules:2", "bad regex")
    bad("missing rules file", [example, "--rules", path("none.rules")], "none.rules",
        "cannot open rules file")
    bad("model and flops", [example, "--model", example, "--flops-per-step", "1e12"],
        "--model or --flops-per-step")
    bad("bad window", [example, "--window", "5:1"], "--window")
    for v in ("0", "-1e12", "nan", "inf", "1e400"):  # never silently dropped, never inf %
        rc, _, err, _ = run(example, "--flops-per-step", v)
        check(rc == 2 and "--flops-per-step" in err and "positive, finite" in err,
              "--flops-per-step %s: usage error (got %d: %s)" % (v, rc, err.strip()))
    # Kernels whose args name no stream: HTA would count nothing, goodput still analyses them.
    rc, out, err, doc = run(write("nostream.json", json.dumps({"traceEvents": [
        {"ph": "X", "cat": "kernel", "name": "gemm", "ts": 1, "dur": 2, "pid": 0, "tid": 7}]})))
    check(rc == 0 and "HTA-compatible: n/a (nothing HTA would count" in out,
          "no stream args: analysed, HTA numbers n/a (got %d: %s)" % (rc, err.strip()))
    if doc is not None and rc == 0:
        check("note" in doc["analysis"]["ranks"][0]["hta_compatible"], "no stream args: JSON note")
    # Names come from any file: no control character (a terminal escape) reaches the report.
    rc, out, err, _ = run(write("esc.json", json.dumps({"traceEvents": [
        {"ph": "X", "cat": "kernel", "name": "gemm\x1b[2J\x07k", "ts": 1, "dur": 2, "pid": 0,
         "tid": 7, "args": {"correlation": 1, "stream": 7}}]})))
    check(rc == 0 and "gemm?[2J?k" in out and "\x1b" not in out and "\x07" not in out,
          "control characters in names are not printed (got %d: %r)" % (rc, out[-300:]))
    # Model FLOPs are per step: with no step marked, the whole trace is no step to hold them to.
    rc, out, err, doc = run(example, "--step-marker", "nosuch", "--flops-per-step", "1e12")
    check(rc == 0, "unmarked steps: exit 0 (got %d: %s)" % (rc, err.strip()))
    if doc is not None:
        r = doc["analysis"]["ranks"][0]
        check(all("mfu" not in s and "model_flops" not in s for s in r["steps"]),
              "unmarked steps: no model MFU against the whole trace")
        check("model MFU withheld" in r.get("steps_note", ""), "unmarked steps: the note says why")
    check("model MFU withheld" in out, "unmarked steps: the report says why")
    # A bad trace is reported before a bad rules file: the traces are read first.
    bad("bad trace and rules", [path("hello.json"), "--rules", path("bad.rules")], "hello.json")

    # Outputs inside the folder analysed: this run's own are not read, and earlier runs' results
    # documents and annotated traces are left out with a note, not read as ranks.
    fold = path("fold")
    os.mkdir(fold)
    for r in (0, 1):
        with open(os.path.join(fold, "rank%d.json" % r), "w") as f:
            json.dump({"distributedInfo": {"rank": r, "world_size": 2}, "traceEvents": [
                {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#1", "ts": 0, "dur": 90,
                 "pid": 1, "tid": 1},
                {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 1, "dur": 1,
                 "pid": 1, "tid": 1, "args": {"correlation": 1}},
                {"ph": "X", "cat": "kernel", "name": "k", "ts": 5, "dur": 20, "pid": 0, "tid": 7,
                 "args": {"stream": 7, "correlation": 1}}]}, f)
    def in_fold(*args):
        p = subprocess.run([goodput, "analyze", fold, *args], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr
    rc, out, err = in_fold("--json", os.path.join(fold, "analysis.json"))
    check(rc == 0, "--json inside the folder: exit 0 (got %d: %s)" % (rc, err.strip()))
    rc, out, err = in_fold("--json", os.path.join(fold, "again.json"), "--trace-out",
                           os.path.join(fold, "ann.json"))
    check(rc == 0, "a results document in the folder: exit 0 (got %d: %s)" % (rc, err.strip()))
    check("analysis.json left out: a goodput results document" in out, "its note: %s" % out)
    for trace_out, note in (("ann.json", "ann.json left out: this run's --trace-out output"),
                            ("ann.json.gz", "ann.json left out: an annotated trace"),
                            ("ann2.json.gz", "ann.json.gz left out: an annotated trace")):
        rc, out, err, doc = run(fold, "--trace-out", os.path.join(fold, trace_out))
        check(rc == 0, "--trace-out %s in the folder: exit 0 (got %d: %s)"
              % (trace_out, rc, err.strip()))
        check(note in out, "--trace-out %s: the note %r: %s" % (trace_out, note, out))
    check(doc is not None and "analysis" in doc, "annotated traces in the folder: analysed")
    if doc is not None and "analysis" in doc:
        a = doc["analysis"]
        check([i["rank"] for i in a["inputs"]] == [0, 1], "two ranks read: %s" % a["inputs"])
        left = sorted(os.path.basename(f["path"]) for f in a["inputs_left_out"])
        check(left == ["again.json", "analysis.json", "ann.json", "ann.json.gz"],
              "left out: %s" % left)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
finish()
