#!/usr/bin/env python3
"""Writes week_job.jsonl: the event log of a week of pretraining on 64 GPUs, the example the
README walks through. Deterministic (fixed seed), so the numbers in the README stay right.

The job (times from the submission on 2026-03-02 00:00 UTC):
  - waits 2 h in the queue, then 5 min until the program starts;
  - each attempt initialises for 10 min (init phase) and, after a restart, restores the
    last checkpoint for 3 min;
  - steps take 60 s (+-0.5 s); one in 400 is a straggler (+20..40 s); every 500th step waits
    30 s for data; every 1000th is followed by a 5 min evaluation;
  - a checkpoint every 100 steps blocks for 45 s;
  - day 1.5: GPU Xid 79 on rank 37 (infra): the node is replaced (35 min), the job restarts 5 min
    later from the last checkpoint;
  - day 3.7: a collective hangs; the NCCL watchdog kills the attempt after 30 min (framework):
    restart after 6 min;
  - day 5.2: the loss goes NaN (model): restart after 4 min from the checkpoint before the last
    one (200 steps back), because the last one already held the diverged weights;
  - the job ends exactly 7 days after its submission.
Only rank 0 writes steps (as most jobs do); a fault comes from the rank that saw it.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from goodput_recorder import Recorder  # noqa: E402

T0 = 1772409600.0  # 2026-03-02T00:00:00Z
DAY = 86400.0
END = T0 + 7 * DAY


def main(out):
    rnd = random.Random(20260302)
    if os.path.exists(out):
        os.remove(out)
    rec = Recorder(out, rank=0, attempt=1)

    def ev(kind, t, attempt=None, rank=0, **f):
        rec.attempt = attempt or rec.attempt
        rec.rank = rank
        rec.emit(kind, t, **f)
        rec.rank = 0

    ev("job_start", T0, gpus=64, job="llm-70b-pretrain")
    ev("resources_allocated", T0 + 7200, gpus=64)
    faults = [  # (time, cause, layer, rank, restart gap, realloc, rollback checkpoints)
        (T0 + 1.5 * DAY, "GPU Xid 79: fell off the bus", "infra", 37, 40 * 60, 35 * 60, 0),
        (T0 + 3.7 * DAY, "NCCL watchdog: all_reduce timed out", "framework", 12, 6 * 60, None, 0),
        (T0 + 5.2 * DAY, "loss is NaN at step", "model", 0, 4 * 60, None, 1),
    ]
    t = T0 + 7200 + 300
    attempt, step, checkpoints = 1, 1, []  # checkpoints: steps whose save finished
    for fault in faults + [None]:
        ev("attempt_start", t, attempt)
        ev("phase_begin", t, phase="init")
        t += 600
        ev("phase_end", t, phase="init")
        if checkpoints:
            ev("checkpoint_restore_begin", t, step=checkpoints[-1])
            t += 180
            ev("checkpoint_restore_end", t, step=checkpoints[-1])
            step = checkpoints[-1] + 1
        stop = fault[0] if fault else END
        while True:
            d = 60 + rnd.uniform(-0.5, 0.5)
            if rnd.random() < 1 / 400:
                d += rnd.uniform(20, 40)
            if t + d > stop:
                break
            ev("step", t + d, step=step, dur=round(d, 3))
            t += d
            if step % 500 == 0:
                ev("phase_begin", t, phase="data")
                t += 30
                ev("phase_end", t, phase="data")
            if step % 100 == 0:
                ev("checkpoint_save_begin", t, step=step)
                t += 45
                ev("checkpoint_save_end", t, step=step)
                checkpoints.append(step)
            if step % 1000 == 0:
                ev("phase_begin", t, phase="eval")
                t += 300
                ev("phase_end", t, phase="eval")
            step += 1
        if not fault:
            break
        ft, cause, layer, frank, gap, realloc, rollback = fault
        ev("step_start", t, step=step)  # the step the fault interrupts
        if layer == "framework":  # a hang: the watchdog fires 30 min after the step started
            ft = t + 1800
        if layer == "model":
            cause = f"{cause} {step}"
        ev("fault", ft, cause=cause, layer=layer, ranks=[frank], rank=frank)
        t = ft
        if layer == "framework":
            t += 20
            ev("attempt_end", t, reason="killed by watchdog")
        if layer == "infra":
            ev("resources_released", t + 60)
            ev("resources_allocated", t + realloc, gpus=64)
        if rollback:
            del checkpoints[-rollback:]
        t += gap
        attempt += 1
    ev("attempt_end", END, attempt, reason="completed")
    ev("job_end", END, status="ok")
    rec.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "week_job.jsonl"))
