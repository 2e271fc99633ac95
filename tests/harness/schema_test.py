#!/usr/bin/env python3
"""Schema tests: our own documents validate, broken ones do not.

Usage: schema_test.py GOODPUT_BIN SAMPLE_DOCUMENT_BIN WORK_DIR
"""
import copy
import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VALIDATE = os.path.join(ROOT, "scripts", "validate_results.py")
GOODPUT, SAMPLE, WORK = sys.argv[1:4]


def validate(doc, expect_valid=True):
    path = os.path.join(WORK, "doc-%d.json" % id(doc))
    with open(path, "w") as f:
        json.dump(doc, f)
    args = [sys.executable, VALIDATE, path] + ([] if expect_valid else ["--expect-invalid"])
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


class Schema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(WORK, exist_ok=True)
        cls.sample_path = os.path.join(WORK, "sample-calibrate.json")
        p = subprocess.run([SAMPLE, cls.sample_path], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        with open(cls.sample_path) as f:
            cls.sample = json.load(f)

    def test_sample_calibrate_document_is_valid(self):
        rc, out = validate(self.sample)
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.sample["meta"]["status"], "complete")
        self.assertIn("bf16", self.sample["peak_profile"]["gemm"])
        statuses = {r["status"] for r in self.sample["results"]}
        self.assertEqual(statuses, {"ok", "skipped", "error"})

    def test_devices_document_is_valid_even_when_failed(self):
        path = os.path.join(WORK, "devices.json")
        p = subprocess.run([GOODPUT, "devices", "--json", path], capture_output=True, text=True)
        self.assertIn(p.returncode, (0, 3), p.stderr)
        with open(path) as f:
            doc = json.load(f)
        self.assertEqual(doc["meta"]["status"], "complete" if p.returncode == 0 else "failed")
        rc, out = validate(doc)
        self.assertEqual(rc, 0, out)

    def broken(self, mutate):
        doc = copy.deepcopy(self.sample)
        mutate(doc)
        rc, out = validate(doc, expect_valid=False)
        self.assertEqual(rc, 0, "expected INVALID, got: " + out)

    def test_missing_meta_is_invalid(self):
        self.broken(lambda d: d.pop("meta"))

    def test_schema_version_must_be_a_string(self):
        self.broken(lambda d: d.__setitem__("schema_version", 1.0))

    def test_wrong_schema_name_is_invalid(self):
        self.broken(lambda d: d.__setitem__("schema", "other"))

    def test_unknown_status_is_invalid(self):
        self.broken(lambda d: d["meta"].__setitem__("status", "done"))

    def test_failed_needs_error(self):
        self.broken(lambda d: d["meta"].__setitem__("status", "failed"))

    def test_skipped_result_needs_reason(self):
        def drop_reason(d):
            r = next(r for r in d["results"] if r["status"] == "skipped")
            r.pop("reason")
        self.broken(drop_reason)

    def test_ok_result_with_samples_needs_stats(self):
        self.broken(lambda d: d["results"][0].pop("stats"))

    def test_negative_sample_is_invalid(self):
        self.broken(lambda d: d["results"][0]["samples_s"].__setitem__(0, -1.0))

    def test_peak_profile_needs_gemm(self):
        self.broken(lambda d: d["peak_profile"].pop("gemm"))

    def test_telemetry_field_is_number_or_not_available(self):
        self.broken(lambda d: d["regime"]["before"].__setitem__("power_w", "n/a"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
