#!/usr/bin/env python3
"""A small GPT training loop with one NVTX range per step: the workload `goodput profile` and
`goodput analyze` are checked on, and the one torch.profiler is compared with.

    python3 examples/train/train_gpt.py --steps 30 --out plain.json
    goodput profile -o step.json -- python3 examples/train/train_gpt.py --out traced.json
    python3 examples/train/train_gpt.py --torch-profiler torch.json.gz --out torch.json

Each step is wrapped in an NVTX range named "step" (goodput's default step marker); with
--torch-profiler, torch.profiler records with a schedule whose active steps are marked
ProfilerStep#N. Step times come from CUDA events recorded at each step boundary on the training
stream, so they are GPU-side step times; --out writes them with the model's shape, so that
`examples/models/gpt-train-example.json` can be checked against what ran. Inputs are random
tokens: the loop measures the step, not learning.
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (y.view(b, t, self.heads, d // self.heads).transpose(1, 2) for y in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, layers, d, heads, vocab, seq):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight  # tied embeddings

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        logits = self.head(self.ln(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50304)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--torch-profiler", metavar="TRACE", help="record with torch.profiler into TRACE")
    ap.add_argument("--profile-wait", type=int, default=5, help="torch.profiler: steps before it records")
    ap.add_argument("--profile-active", type=int, default=10, help="torch.profiler: steps it records")
    ap.add_argument("--out", help="write step times and the model's shape here (JSON)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("train_gpt.py: no CUDA device visible to PyTorch")

    torch.manual_seed(a.seed)
    dev = torch.device("cuda")
    model = GPT(a.layers, a.hidden, a.heads, a.vocab, a.seq).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, fused=True)
    params = sum(p.numel() for p in model.parameters())
    x = torch.randint(0, a.vocab, (a.batch, a.seq), device=dev)
    y = torch.randint(0, a.vocab, (a.batch, a.seq), device=dev)

    prof = None
    if a.torch_profiler:
        from torch.profiler import ProfilerActivity, profile, schedule

        prof = profile(
            activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
            schedule=schedule(wait=a.profile_wait, warmup=1, active=a.profile_active, repeat=1),
            record_shapes=True,
            with_flops=True,
            on_trace_ready=lambda p: p.export_chrome_trace(a.torch_profiler),
        )
        prof.start()

    events = [torch.cuda.Event(enable_timing=True) for _ in range(a.steps + 1)]
    torch.cuda.synchronize()
    wall0 = time.perf_counter()
    for s in range(a.steps):
        events[s].record()
        torch.cuda.nvtx.range_push("step")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.nvtx.range_pop()
        if prof is not None:
            prof.step()
    events[a.steps].record()
    torch.cuda.synchronize()
    wall = time.perf_counter() - wall0
    if prof is not None:
        prof.stop()

    steps_s = [events[i].elapsed_time(events[i + 1]) * 1e-3 for i in range(a.steps)]
    steady = steps_s[min(5, a.steps - 1):]
    result = {
        "mode": "torch.profiler" if prof is not None else "plain",
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "params": params,
        "model": {"layers": a.layers, "hidden": a.hidden, "heads": a.heads, "ffn": 4 * a.hidden,
                  "vocab": a.vocab, "seq_len": a.seq, "batch": a.batch,
                  "tokens_per_step": a.batch * a.seq},
        "steps_s": steps_s,
        "steady_from_step": min(5, a.steps - 1),
        "median_step_s": statistics.median(steady),
        "wall_s": wall,
        "final_loss": float(loss.detach()),
    }
    if prof is not None:
        first = a.profile_wait + 1  # after the wait steps and the one warm-up step
        result["profiled_steps"] = list(range(first, min(a.steps, first + a.profile_active)))
    if not math.isfinite(result["final_loss"]):
        sys.exit("train_gpt.py: the loss is not finite")
    print(f"{result['mode']}: median step {result['median_step_s'] * 1e3:.3f} ms over "
          f"{len(steady)} steady steps, {params / 1e6:.1f} M parameters, loss {result['final_loss']:.3f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
