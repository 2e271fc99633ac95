#!/usr/bin/env python3
"""Writes the goodput event log (JSON Lines, format version 1) from a training job.

Standard library only. Every event is one whole line, written with a single os.write() on a file
opened with O_APPEND, so ranks and restarted attempts can all append to one file without
interleaving, and a crash loses at most the line being written. `goodput ledger LOG` reads it.

    from goodput_recorder import Recorder
    rec = Recorder("events.jsonl")           # rank from $RANK, attempt from $GOODPUT_ATTEMPT
    rec.attempt_start()
    with rec.phase("init"):
        setup()
    for n in range(start, steps):
        with rec.step(n):
            train_step()
        if n % 100 == 0:
            with rec.checkpoint_save(n):     # the blocking part only
                save()
    rec.fault("NCCL timeout", layer="framework", ranks=[3])

From a shell (batch scripts, schedulers):
    goodput_recorder.py --log events.jsonl job_start gpus=64
"""

import contextlib
import json
import os
import sys
import time

FORMAT_VERSION = 1


def _env_int(name, default):
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


class Recorder:
    """Appends events of one process (one rank of one attempt) to an event log."""

    def __init__(self, path=None, rank=None, attempt=None):
        path = path or os.environ.get("GOODPUT_EVENT_LOG")
        if not path:
            raise ValueError("goodput recorder: no log path (argument or $GOODPUT_EVENT_LOG)")
        self.path = path
        self.rank = _env_int("RANK", 0) if rank is None else int(rank)
        if attempt is None:
            attempt = _env_int("GOODPUT_ATTEMPT", _env_int("TORCHELASTIC_RESTART_COUNT", 0) + 1)
        self.attempt = max(1, int(attempt))
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o644)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def emit(self, kind, t=None, **fields):
        """One event line. `t` (seconds since the epoch) defaults to now; None fields are left out."""
        event = {"v": FORMAT_VERSION, "t": round(time.time() if t is None else float(t), 6),
                 "kind": kind, "rank": self.rank, "attempt": self.attempt}
        event.update({k: v for k, v in fields.items() if v is not None})
        line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view):]

    # Job, attempt and resources.
    def job_start(self, gpus=None, job=None, t=None):
        self.emit("job_start", t, gpus=gpus, job=job)

    def job_end(self, status="ok", t=None):
        self.emit("job_end", t, status=status)

    def attempt_start(self, t=None):
        self.emit("attempt_start", t)

    def attempt_end(self, reason=None, t=None):
        self.emit("attempt_end", t, reason=reason)

    def resources_allocated(self, gpus=None, t=None):
        self.emit("resources_allocated", t, gpus=gpus)

    def resources_released(self, t=None):
        self.emit("resources_released", t)

    def fault(self, cause, layer="infra", ranks=None, t=None):
        """layer: infra (hardware, network, node), framework (software) or model (NaN, divergence)."""
        if layer not in ("infra", "framework", "model"):
            raise ValueError("goodput recorder: layer must be infra, framework or model")
        self.emit("fault", t, cause=cause, layer=layer,
                  ranks=None if ranks is None else [int(r) for r in ranks])

    # Intervals. An exception inside a step or a save leaves it without its end: the ledger then
    # counts the step as unfinished and the save as holding no checkpoint.
    def step_start(self, step, t=None):
        self.emit("step_start", t, step=int(step))

    def step_end(self, step, t=None):
        self.emit("step_end", t, step=int(step))

    @contextlib.contextmanager
    def step(self, step):
        self.step_start(step)
        yield
        self.step_end(step)

    @contextlib.contextmanager
    def checkpoint_save(self, step):
        self.emit("checkpoint_save_begin", step=int(step))
        yield
        self.emit("checkpoint_save_end", step=int(step))

    @contextlib.contextmanager
    def checkpoint_restore(self, step):
        self.emit("checkpoint_restore_begin", step=int(step))
        yield
        self.emit("checkpoint_restore_end", step=int(step))

    @contextlib.contextmanager
    def phase(self, name):
        """init, prep, compile, warmup, data (a blocking data wait), eval, or any name."""
        self.emit("phase_begin", phase=name)
        try:
            yield
        finally:
            self.emit("phase_end", phase=name)


def _main(argv):
    import argparse

    p = argparse.ArgumentParser(description="Append one event to a goodput event log.")
    p.add_argument("--log", default=os.environ.get("GOODPUT_EVENT_LOG"), help="event log file")
    p.add_argument("--rank", type=int, default=None)
    p.add_argument("--attempt", type=int, default=None)
    p.add_argument("kind", help="job_start, job_end, attempt_start, fault, ...")
    p.add_argument("fields", nargs="*", help="key=value (integers and JSON values are parsed)")
    a = p.parse_args(argv)
    fields = {}
    for kv in a.fields:
        key, sep, value = kv.partition("=")
        if not sep:
            p.error(f"field '{kv}' is not key=value")
        try:
            fields[key] = json.loads(value)
        except ValueError:
            fields[key] = value
    t = fields.pop("t", None)
    with Recorder(a.log, a.rank, a.attempt) as rec:
        rec.emit(a.kind, t, **fields)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
