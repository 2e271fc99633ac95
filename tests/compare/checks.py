"""Shared by the Python end-to-end tests: collect failed checks, exit non-zero if any."""
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def finish():
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)
