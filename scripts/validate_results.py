#!/usr/bin/env python3
"""Validate goodput results documents against results/schema/goodput-results.schema.json.

Usage: scripts/validate_results.py [--schema FILE] [--expect-invalid] FILE...
Exit 0 when every file is valid (or, with --expect-invalid, when every file is invalid),
1 otherwise, 2 on usage errors (missing file, malformed JSON, jsonschema not installed).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "results", "schema", "goodput-results.schema.json")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        sys.exit(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        sys.exit(f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}")


def errors_of(validator, doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--expect-invalid", action="store_true",
                    help="succeed only if every file fails validation (negative tests)")
    args = ap.parse_args()
    try:
        import jsonschema
    except ImportError:
        print("validate_results: python module jsonschema is missing (scripts/setup.sh installs it)",
              file=sys.stderr)
        return 2
    schema = load(args.schema)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    bad = 0
    for path in args.files:
        errs = errors_of(validator, load(path))
        if errs:
            where = lambda e: "/" + "/".join(str(p) for p in e.absolute_path)
            detail = "; ".join(f"{where(e)}: {e.message[:200]}" for e in errs[:5])
            print(f"{path}: INVALID ({len(errs)} error(s)): {detail}")
        else:
            print(f"{path}: valid")
        if bool(errs) != args.expect_invalid:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
