#!/usr/bin/env python3
"""`goodput compare` end to end on the fixtures: exit codes, outputs, error messages.

    cli_test.py GOODPUT_BINARY FIXTURES_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from checks import check, finish

goodput, fixtures = sys.argv[1], sys.argv[2]


def fx(name):
    return os.path.join(fixtures, name)


def run(*args):
    p = subprocess.run([goodput, "compare", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="goodput_cli_")
try:
    rc, out, err = run(fx("baseline.json"), fx("current_regression.json"),
                       "--json", os.path.join(tmp, "c.json"), "--junit", os.path.join(tmp, "j.xml"),
                       "--markdown", os.path.join(tmp, "c.md"))
    check(rc == 1, "planted regression exits 1 (got %d: %s)" % (rc, err))
    check("SLOWER" in out and "RESULT: regression" in out, "terminal table shows the regression")
    doc = json.load(open(os.path.join(tmp, "c.json")))
    check(doc["schema"] == "goodput.results" and doc["meta"]["command"] == "compare", "JSON is a results document")
    check(doc["meta"]["status"] == "complete", "JSON status complete")
    s = doc["comparison"]["summary"]
    check(s["slower"] == 1 and s["same"] == 30 and s["inconclusive"] == 5 and s["regressed"], "JSON summary %s" % s)
    slow = [e for e in doc["comparison"]["entries"] if e["verdict"] == "slower"]
    check(len(slow) == 1 and slow[0]["name"] == "gemm/bf16/8192x8192x8192", "JSON names the slower GEMM")
    check(0.03 < slow[0]["ci"]["lo"] < slow[0]["change"] < slow[0]["ci"]["hi"], "JSON CI brackets the change")
    root = ET.parse(os.path.join(tmp, "j.xml")).getroot()  # well-formed XML
    suite = root.find("testsuite")
    check(suite is not None and suite.get("failures") == "1" and suite.get("tests") == "36", "JUnit counts")
    failed = [tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None]
    check(len(failed) == 1 and failed[0].startswith("gemm/bf16/8192x8192x8192"), "JUnit failure case %s" % failed)
    check(open(os.path.join(tmp, "c.md")).read().startswith("## goodput compare: 1 regression"), "Markdown file")
    schema = os.environ.get("GOODPUT_RESULTS_SCHEMA", "")
    try:
        import jsonschema
        if os.path.exists(schema):
            jsonschema.validate(doc, json.load(open(schema)))
        else:
            print("note: no results schema at %s; JSON not validated against it" % schema)
    except ImportError:
        print("note: python jsonschema missing; JSON not validated against the schema")
    except Exception as e:  # a validation error
        check(False, "compare JSON validates against the results schema: %s" % str(e)[:300])

    rc, out, err = run(fx("baseline.json"), fx("current_noise.json"))
    check(rc == 0 and "RESULT: no regression" in out, "pure noise exits 0 (got %d)" % rc)
    rc, out, err = run(fx("baseline_few.json"), fx("current_few.json"), "--format", "markdown")
    check(rc == 0 and "_inconclusive_" in out and "**slower**" not in out, "3 samples a side: inconclusive, exit 0")
    rc, out, err = run(fx("baseline.json"), fx("current_regression.json"), "--threshold", "gemm=8%")
    check(rc == 0, "a wider GEMM threshold accepts the 5 %% change (got %d)" % rc)
    rc, out, err = run(fx("baseline.json"), fx("current_unmatched.json"))
    check(rc == 0 and "Only in the baseline" in out and "memory/write" in out, "unmatched listed, exit 0")
    rc, out, err = run(fx("baseline.json"), fx("current_unmatched.json"), "--fail-on-missing")
    check(rc == 1, "--fail-on-missing exits 1 (got %d)" % rc)
    # Failed in the baseline, measured now: nothing is missing now.
    fixed = json.load(open(fx("current_unmatched.json")))
    good = {r["name"]: r for r in json.load(open(fx("baseline.json")))["results"]}
    fixed["results"] = [good.get(r["name"], r) if r.get("status") == "error" else r for r in fixed["results"]]
    with open(os.path.join(tmp, "fixed.json"), "w") as f:
        json.dump(fixed, f)
    rc, out, err = run(fx("current_unmatched.json"), os.path.join(tmp, "fixed.json"), "--fail-on-missing")
    check(rc == 0 and "baseline status 'error'" in out,
          "--fail-on-missing: a baseline failure measured now exits 0 (got %d: %s)" % (rc, err.strip()))
    rc, out, err = run(fx("baseline.json"), fx("current_other_gpu.json"), "--format", "junit")
    check("different GPU model" in run(fx("baseline.json"), fx("current_other_gpu.json"))[1], "GPU model flagged")
    ET.fromstring(out)

    sku = os.path.join(tmp, "results", "nvidia-h100-80gb-hbm3")
    os.makedirs(sku)
    shutil.copy(fx("baseline.json"), os.path.join(sku, "bench.json"))
    rc, out, err = run("--baseline-dir", os.path.join(tmp, "results"), fx("current_regression.json"))
    check(rc == 1, "--baseline-dir finds the SKU baseline and the regression (got %d: %s)" % (rc, err))
    rc, out, err = run("--baseline-dir", os.path.join(tmp, "results"), fx("current_other_gpu.json"))
    check(rc == 2 and "nvidia-h100-pcie" in err, "--baseline-dir without that SKU exits 2 naming it")

    nameless = json.load(open(fx("current_regression.json")))
    nameless["devices"][0]["name"] = "?? --"
    with open(os.path.join(tmp, "nameless.json"), "w") as f:
        json.dump(nameless, f)
    shutil.copy(fx("baseline.json"), os.path.join(tmp, "results", "bench.json"))
    rc, out, err = run("--baseline-dir", os.path.join(tmp, "results"), os.path.join(tmp, "nameless.json"))
    check(rc == 2 and "has no letters or digits" in err,
          "--baseline-dir with a device name of no letters or digits exits 2 (got %d: %s)" % (rc, err.strip()))

    for name, text in [("bad_schema_version.json", "schema_version 2.0.0 is not supported"),
                       ("old_schema_version.json", "predates"),
                       ("malformed.json", "malformed JSON at byte"),
                       ("empty_results.json", "'results' is empty"),
                       ("duplicate_names.json", "duplicate of results[0]"),
                       ("nan_time.json", "samples.values[4]: is null"),
                       ("negative_time.json", "negative time"),
                       ("not_results.json", "field 'schema' is missing")]:
        rc, out, err = run(fx("baseline.json"), fx(name))
        check(rc == 2 and text in err and name in err, "%s: exit 2 naming file and cause (got %d: %s)" % (name, rc, err.strip()))
    big = os.path.join(tmp, "overflow.json")
    with open(big, "w") as f:
        f.write(open(fx("baseline.json")).read().replace('"values": [', '"values": [1e400, ', 1))
    rc, out, err = run(fx("baseline.json"), big)
    check(rc == 2 and "overflow.json: unreadable JSON at byte" in err and "1e400" in err,
          "a number too large for a double: exit 2 naming file, byte and cause (got %d: %s)" % (rc, err.strip()))
    p = subprocess.run([goodput, "report", big, "-o", os.path.join(tmp, "r.html")], capture_output=True, text=True)
    check(p.returncode == 2 and "overflow.json: unreadable JSON at byte" in p.stderr,
          "report: a number too large for a double exits 2 (got %d: %s)" % (p.returncode, p.stderr.strip()))
    rc, out, err = run(fx("baseline.json"))
    check(rc == 2 and "baseline and at least one current" in err, "one file only: exit 2")
    rc, out, err = run(fx("baseline.json"), fx("current_noise.json"), "--threshold", "lots")
    check(rc == 2 and "--threshold" in err, "bad --threshold: exit 2")
    rc, out, err = run(fx("baseline.json"), fx("current_regression.json"), "--threshold", "5")
    check(rc == 2 and "'5%'" in err, "--threshold 5 (500 %%) is refused, suggesting 5%% (got %d: %s)" % (rc, err.strip()))
    rc, out, err = run(fx("baseline.json"), fx("current_regression.json"), "--threshold", "gemmm=25%")
    check(rc == 2 and "known kinds: collective, gemm, host_benchmark, memory" in err,
          "--threshold for an unknown kind: exit 2 listing the kinds (got %d: %s)" % (rc, err.strip()))
    rc, out, err = run(fx("baseline.json"), os.path.join(tmp, "missing.json"))
    check(rc == 2, "missing file: exit 2")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

finish()
