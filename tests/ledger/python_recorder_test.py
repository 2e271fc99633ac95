#!/usr/bin/env python3
"""Several processes append to one event log through scripts/goodput_recorder.py at the same
time; `goodput ledger` must then read every line whole and count every step.

usage: python_recorder_test.py GOODPUT_BINARY SCRIPTS_DIR WORK_DIR
"""
import json
import multiprocessing as mp
import os
import subprocess
import sys

RANKS, STEPS = 6, 400


def rank_main(log, rank):
    from goodput_recorder import Recorder

    with Recorder(log, rank=rank, attempt=1) as rec:
        if rank == 0:
            rec.job_start(gpus=RANKS)
            rec.attempt_start()
        with rec.phase("init"):
            pass
        for n in range(1, STEPS + 1):
            with rec.step(n):
                pass
            if n % 100 == 0 and rank == 0:
                with rec.checkpoint_save(n):
                    pass


def main():
    goodput, scripts, work = sys.argv[1:4]
    sys.path.insert(0, scripts)
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "python_recorder.jsonl")
    if os.path.exists(log):
        os.remove(log)
    procs = [mp.Process(target=rank_main, args=(log, r)) for r in range(RANKS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"writer exited with {p.exitcode}"
    # The shell entry point, as a scheduler would use it.
    for kind, field in (("attempt_end", "reason=completed"), ("job_end", "status=ok")):
        subprocess.run([sys.executable, os.path.join(scripts, "goodput_recorder.py"), "--log", log,
                        "--attempt", "1", kind, field], check=True)
    out = os.path.join(work, "python_recorder.json")
    r = subprocess.run([goodput, "ledger", log, "--json", out, "--mfu", "0.5"],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"goodput ledger exited {r.returncode}: {r.stdout}\n{r.stderr}"
    doc = json.load(open(out))
    led = doc["ledger"]
    expected_events = 2 + RANKS * (2 + 2 * STEPS) + 2 * (STEPS // 100) + 2
    assert led["log"]["events"] == expected_events, (led["log"]["events"], expected_events)
    assert led["log"]["skipped_lines"] == 0
    assert led["log"]["ranks"] == list(range(RANKS)), led["log"]["ranks"]
    assert led["attempts"][0]["steps_kept"] == STEPS, led["attempts"][0]
    assert led["warnings_total"] == 0, led["warnings"]
    assert 0 < led["goodput"] <= 0.5
    print(f"ok: {expected_events} events from {RANKS} processes, goodput {led['goodput']:.3f}")


if __name__ == "__main__":
    main()
