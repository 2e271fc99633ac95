#!/usr/bin/env python3
"""scripts/plot_results.py on the fixtures: every picture in PNG and SVG, with the right content.

    plot_test.py GOODPUT_BINARY FIXTURES_DIR PLOT_SCRIPT     (exit 77 = skipped: no matplotlib)
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

goodput, fixtures, script = sys.argv[1:4]
try:
    import matplotlib  # noqa: F401
except ImportError:
    print("SKIPPED: python3 has no matplotlib (scripts/setup.sh installs it)")
    sys.exit(77)

from checks import check, finish  # noqa: E402

tmp = tempfile.mkdtemp(prefix="goodput_plot_")
try:
    cmp = os.path.join(tmp, "compare.json")
    subprocess.run([goodput, "compare", os.path.join(fixtures, "baseline.json"),
                    os.path.join(fixtures, "current_regression.json"), "--json", cmp], capture_output=True)
    out = os.path.join(tmp, "pics")
    p = subprocess.run([sys.executable, script, os.path.join(fixtures, "current_regression.json"),
                        "--compare", cmp, "--out", out], capture_output=True, text=True)
    check(p.returncode == 0, "plot script exits 0 (%s)" % p.stderr[-500:])
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    names = [m["name"] for m in manifest["pictures"]]
    check(names == ["roofline", "gemm", "collectives", "compare"], "all four pictures: %s" % names)
    expect = {"roofline": ["arithmetic intensity", "bf16 datasheet 989 TFLOP/s", "HBM datasheet 3.35 TB/s",
                           "memory kernels"],
              "gemm": ["fp8", "tf32", "bf16, fp16 datasheet 989", "16384"],
              "collectives": ["all_reduce", "all_gather", "1 GiB", "bus bandwidth (GB/s)"],
              "compare": ["gemm/bf16/8192x8192x8192", "1 slower, 0 faster, 30 same", "±3% threshold"]}
    for name in names:
        png = open(os.path.join(out, name + ".png"), "rb").read()
        check(png[:8] == b"\x89PNG\r\n\x1a\n", "%s.png is a PNG" % name)
        w, h = struct.unpack(">II", png[16:24])
        check(w >= 600 and h >= 250, "%s.png size %dx%d" % (name, w, h))
        svg = ET.parse(os.path.join(out, name + ".svg")).getroot()
        text = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
        for e in expect[name]:
            check(e in text, "%s.svg shows %r" % (name, e))
    # The planted regression is the rightmost point of the compare chart: its label is last.
    svg = open(os.path.join(out, "compare.svg")).read()
    check(svg.rfind("gemm/bf16/8192x8192x8192") > svg.rfind("collective/all_reduce/1024"), "regression sorted last")
    bad = subprocess.run([sys.executable, script, os.path.join(fixtures, "malformed.json"), "--out", out],
                         capture_output=True, text=True)
    check(bad.returncode == 2 and "malformed JSON" in bad.stderr, "malformed input: exit 2")
    bad = subprocess.run([sys.executable, script, os.path.join(fixtures, "bad_schema_version.json"), "--out", out],
                         capture_output=True, text=True)
    check(bad.returncode == 2 and "not supported" in bad.stderr, "other schema version: exit 2")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

finish()
