#!/usr/bin/env python3
"""`goodput report` in a real headless browser: the page renders without console messages, uses no
external assets, and its DOM shows the numbers. A page with a deliberate console error checks the
check. GOODPUT_SCREENSHOT=FILE also saves a screenshot.

    browser_test.py GOODPUT_BINARY FIXTURES_DIR     (exit 77 = skipped: no Chromium)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

goodput, fixtures = sys.argv[1:3]
browser = os.environ.get("CHROMIUM") or next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
if not browser:
    print("SKIPPED: no Chromium found (Debian: apt-get install chromium; or set CHROMIUM)")
    sys.exit(77)

from checks import check, finish  # noqa: E402

def chrome(tmp, url, *extra):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--user-data-dir=" + os.path.join(tmp, "profile"), "--enable-logging=stderr", "--v=0", *extra, url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l]
    return p, console


tmp = tempfile.mkdtemp(prefix="goodput_browser_")
try:
    # The check itself: a broken page must be caught.
    bad = os.path.join(tmp, "bad.html")
    open(bad, "w").write("<!DOCTYPE html><p>x</p><script>console.error('planted');</script>")
    _, console = chrome(tmp, "file://" + bad, "--dump-dom")
    check(any("planted" in l for l in console), "the console check sees a planted error")

    html = os.path.join(tmp, "report.html")
    p = subprocess.run([goodput, "report", os.path.join(fixtures, "current_regression.json"),
                        "--baseline", os.path.join(fixtures, "baseline.json"), "-o", html],
                       capture_output=True, text=True)
    check(p.returncode == 0, "goodput report exits 0 (%s)" % p.stderr)
    p, console = chrome(tmp, "file://" + html, "--dump-dom")
    dom = p.stdout
    check(p.returncode == 0 and "</html>" in dom, "Chromium renders the page")
    check(not console, "no console messages: %s" % console[:3])
    for text in ["1 regression found", "gemm/bf16/8192x8192x8192", "NVIDIA H100 80GB HBM3",
                 "36 compared: 1 slower, 0 faster, 30 same, 5 inconclusive", "H100 SXM5 80GB"]:
        check(text in dom, "DOM shows %r" % text)
    row = re.search(r'<tr class="slower">(.*?)</tr>', dom, re.S)
    check(row is not None and re.search(r">\+[45]\.\d%<", row.group(1)) is not None,
          "the slower row shows the +5 %% change")
    check(re.search(r">\d+\.\d{3} ms<", row.group(1) if row else "") is not None, "the slower row shows times")
    check(re.search(r">7\d\.\d%<", row.group(1) if row else "") is not None, "the slower row shows % of datasheet")
    check(re.search(r"(src|href)\s*=\s*\"(https?:|//|file:)", dom) is None, "no external assets")
    try:
        import matplotlib  # noqa: F401
        check(dom.count("<figure>") == 4 and dom.count("<svg") >= 4, "four inline SVG pictures")
        check("arithmetic intensity" in dom, "picture text is in the DOM")
    except ImportError:
        print("note: no matplotlib; pictures not checked")
    shot = os.environ.get("GOODPUT_SCREENSHOT")
    if shot:
        chrome(tmp, "file://" + html, "--screenshot=" + os.path.abspath(shot), "--window-size=1300,2600",
               "--hide-scrollbars")
        check(os.path.exists(shot), "screenshot written")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

finish()
