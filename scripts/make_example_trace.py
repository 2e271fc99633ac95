#!/usr/bin/env python3
"""Generate examples/traces/synthetic-kineto-llm.json.gz: a SYNTHETIC PyTorch-profiler (Kineto)
trace for the quick start of `goodput analyze`.

It imitates rank 0 of a 2-GPU data-parallel bf16 training run of a small GPT-like model
(examples/models/synthetic-gpt-small.json) on an H100: ProfilerStep#N markers, aten ops with
recorded shapes ("Input Dims", "Input type", "Concrete Inputs"), cudaLaunchKernel runtime calls
linked to their kernels by correlation ids and ac2g flow events, GEMM / flash-attention /
elementwise / layer-norm / optimizer kernels on one stream, gradient all-reduce NCCL kernels with
Kineto's NCCL args on a second stream, H100 deviceProperties and distributedInfo.

Nothing here was measured: kernel durations come from a simple model (GEMMs at ~62 % of the bf16
datasheet peak, attention at ~45 %, memory-bound kernels at ~2.5 TB/s, NCCL at ~150 GB/s busbw,
a few microseconds of launch gap) with deterministic jitter. The file says so in its metadata.

Usage: scripts/make_example_trace.py [OUTPUT]   (stdlib only; output is byte-for-byte
reproducible).
"""
import gzip
import json
import random
import sys
from pathlib import Path

MODEL = dict(layers=4, hidden=1024, heads=16, ffn=4096, vocab=32768, seq=1024, batch=4)
STEPS = 4
PEAK_BF16 = 989.4e12
HBM = 2.5e12
BUSBW = 150e9
WORLD = 2

GEMM = ("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_"
        "execute_segment_k_off_kernel__5x_cublas")
FLASH_FWD = ("void pytorch_flash::flash_fwd_kernel<pytorch_flash::Flash_fwd_kernel_traits<64, 128, "
             "128, 4, false, false, cutlass::bfloat16_t>, false, true, false, false, true, true, "
             "false>(pytorch_flash::Flash_fwd_params)")
FLASH_BWD = ("void pytorch_flash::flash_bwd_dq_dk_dv_loop_seqk_parallel_kernel<pytorch_flash::"
             "Flash_bwd_kernel_traits<64, 128, 128, 8, 4, 2, 2, false, false, cutlass::bfloat16_t>, "
             "true, false, false, false>(pytorch_flash::Flash_bwd_params)")
LAYERNORM = ("void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::BFloat16, "
             "float>(int, float, c10::BFloat16 const*, c10::BFloat16 const*, c10::BFloat16 const*, "
             "float*, float*, c10::BFloat16*)")
GELU = ("void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl(at::"
        "TensorIteratorBase&, at::native::GeluType)::{lambda()#2}::operator()() const::{lambda()#4}"
        "::operator()() const::{lambda(c10::BFloat16)#1}, std::array<char*, 2ul> >(int, "
        "at::native::GeluCUDAKernelImpl, std::array<char*, 2ul>)")
ADD = ("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::"
       "BFloat16>, std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<c10::BFloat16>, "
       "std::array<char*, 3ul>)")
SOFTMAX_XENT = ("void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, c10::BFloat16, "
                "float, c10::BFloat16, at::native::(anonymous namespace)::LogSoftMaxForwardEpilogue>"
                "(c10::BFloat16*, c10::BFloat16 const*, int)")
ADAMW = ("void at::native::(anonymous namespace)::multi_tensor_apply_kernel<at::native::(anonymous "
         "namespace)::TensorListMetadata<4>, at::native::(anonymous namespace)::FusedAdamMathFunctor"
         "<c10::BFloat16, 4, (at::native::ADAM_MODE)1, false>, double*, double, double, double, "
         "double, double, bool, double*, double*>(int, at::native::(anonymous namespace)::"
         "TensorListMetadata<4>)")
NCCL = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL128(ncclDevKernelArgsStorage<4096ul>)"

BF16 = "c10::BFloat16"
PID, TID, STREAM, COMM_STREAM = 4242, 4242, 7, 20


class Trace:
    def __init__(self):
        self.rng = random.Random(20240601)
        self.events = []
        self.cpu = 1_000_000.0   # host clock, µs
        self.gpu = 1_000_050.0   # compute stream is free from here
        self.comm = 0.0          # comm stream is free from here
        self.ext = 0
        self.corr = 0

    def jitter(self, v, spread=0.04):
        return v * (1 + self.rng.uniform(-spread, spread))

    def x(self, cat, name, ts, dur, pid, tid, args):
        self.events.append({"ph": "X", "cat": cat, "name": name, "pid": pid, "tid": tid,
                            "ts": round(ts, 3), "dur": round(dur, 3), "args": args})

    def op(self, name, dims=None, types=None, concrete=None, dur=6.0):
        """A CPU op; returns its External id. The caller advances the host clock."""
        self.ext += 1
        args = {"External id": self.ext}
        if dims is not None:
            args["Input Dims"] = dims
            args["Input type"] = types or [BF16] * len(dims)
            args["Concrete Inputs"] = concrete or [""] * len(dims)
        self.x("cpu_op", name, self.cpu, dur, PID, TID, args)
        return self.ext

    def launch(self, ext, kernel, dur_us, stream=STREAM, extra=None, cat="kernel", after=None):
        """cudaLaunchKernel on the host, the kernel on the GPU when the stream is free."""
        self.corr += 1
        start = self.cpu + 1.0
        self.x("cuda_runtime", "cudaLaunchKernel", start, 4.0, PID, TID,
               {"External id": ext, "correlation": self.corr, "cbid": 211})
        self.events.append({"ph": "s", "id": self.corr, "pid": PID, "tid": TID, "ts": round(start, 3),
                            "cat": "ac2g", "name": "ac2g"})
        free = self.gpu if stream == STREAM else max(self.comm, after or 0.0)
        ts = max(free + self.jitter(1.2, 0.3), start + 5.0)
        dur = self.jitter(dur_us)
        args = {"External id": ext, "device": 0, "stream": stream, "correlation": self.corr,
                "grid": [132, 1, 1], "block": [256, 1, 1]}
        args.update(extra or {})
        self.x(cat, kernel, ts, dur, 0, stream, args)
        self.events.append({"ph": "f", "id": self.corr, "pid": 0, "tid": stream, "ts": round(ts, 3),
                            "cat": "ac2g", "name": "ac2g", "bp": "e"})
        if stream == STREAM:
            self.gpu = ts + dur
        else:
            self.comm = ts + dur
        self.cpu = start + 6.0
        return ts + dur


def gemm_us(m, n, k, eff=0.62):
    return 2.0 * m * n * k / (PEAK_BF16 * eff) * 1e6


def mem_us(nbytes):
    return nbytes / HBM * 1e6 + 2.0


def build():
    t = Trace()
    L, h, H, f, V, S, B = (MODEL[k] for k in ("layers", "hidden", "heads", "ffn", "vocab", "seq",
                                             "batch"))
    T, D = B * S, h // H
    act = T * h * 2  # bytes of one bf16 activation
    params_per_layer = 4 * h * h + 2 * h * f
    bucket_bytes = 2 * (params_per_layer * L + V * h) / 4  # four gradient buckets

    def linear(m, k, n):
        ext = t.op("aten::linear", [[B, S, k], [n, k], [n]], dur=8.0)
        t.cpu += 3
        ext2 = t.op("aten::addmm", [[n], [m, k], [k, n], [], []],
                    [BF16, BF16, BF16, "Scalar", "Scalar"], ["", "", "", "1", "1"])
        t.launch(ext2, GEMM, gemm_us(m, n, k))
        return ext

    def mm_bwd(m, k, n):
        # dgrad [m,n]x[n,k] and wgrad [n,m]x[m,k]
        e = t.op("aten::mm", [[m, n], [n, k]])
        t.launch(e, GEMM, gemm_us(m, k, n))
        e = t.op("aten::mm", [[n, m], [m, k]])
        t.launch(e, GEMM, gemm_us(n, k, m))

    def simple(name, kernel, nbytes, dims):
        e = t.op(name, dims)
        t.launch(e, kernel, mem_us(nbytes))

    for step in range(STEPS):
        step_start = t.cpu
        t.ext += 1
        step_ext = t.ext
        step_events_at = len(t.events)
        # Host-side data loading makes the first step launch-bound.
        t.cpu += 400.0 if step == 0 else 30.0
        e = t.op("aten::copy_", [[B, S], [B, S]], ["long int", "long int"])
        t.launch(e, "Memcpy HtoD (Pinned -> Device)", mem_us(B * S * 8) + 3, cat="gpu_memcpy",
                 extra={"bytes": B * S * 8})
        simple("aten::embedding", ADD, 2 * act, [[V, h], [B, S]])
        for _ in range(L):
            simple("aten::layer_norm", LAYERNORM, 2 * act, [[B, S, h], [], [h], [h], [], []])
            linear(T, h, 3 * h)
            qkv = [[B, H, S, D]] * 3
            ext = t.op("aten::scaled_dot_product_attention", qkv + [[], [], [], [], []],
                       [BF16] * 3 + ["", "Scalar", "Scalar", "", "Scalar"],
                       ["", "", "", "", "0.", "True", "", "False"], dur=20)
            t.cpu += 4
            e = t.op("aten::_scaled_dot_product_flash_attention", qkv + [[], [], [], []],
                     [BF16] * 3 + ["Scalar"] * 4, ["", "", "", "0.", "True", "False", ""])
            t.launch(e, FLASH_FWD, 4.0 * B * H * S * S * D / 2 / (PEAK_BF16 * 0.45) * 1e6)
            linear(T, h, h)
            simple("aten::add", ADD, 3 * act, [[B, S, h], [B, S, h], []])
            simple("aten::layer_norm", LAYERNORM, 2 * act, [[B, S, h], [], [h], [h], [], []])
            linear(T, h, f)
            simple("aten::gelu", GELU, 2 * act * f // h, [[B, S, f], []])
            linear(T, f, h)
            simple("aten::add", ADD, 3 * act, [[B, S, h], [B, S, h], []])
        linear(T, h, V)
        simple("aten::_log_softmax", SOFTMAX_XENT, 2 * T * V * 2, [[T, V], [], []])
        # Backward: layers in reverse; a gradient bucket all-reduce after each layer's weights.
        simple("aten::_log_softmax_backward_data", SOFTMAX_XENT, 3 * T * V * 2, [[T, V], [T, V]])
        mm_bwd(T, h, V)
        for layer in range(L):
            mm_bwd(T, f, h)
            simple("aten::gelu_backward", GELU, 3 * act * f // h, [[B, S, f], [B, S, f]])
            mm_bwd(T, h, f)
            simple("aten::native_layer_norm_backward", LAYERNORM, 4 * act,
                   [[B, S, h], [B, S, h], [h], [B, S, 1], [B, S, 1], [h], [h], []])
            mm_bwd(T, h, h)
            qkv = [[B, H, S, D]] * 3
            e = t.op("aten::_scaled_dot_product_flash_attention_backward",
                     [[B, H, S, D]] + qkv + [[B, H, S, D], [B, H, S]] + [[]] * 9,
                     [BF16] * 5 + ["Float"] + [""] * 2 + ["Scalar"] * 7,
                     [""] * 10 + ["0.", "True", "", "", ""])
            t.launch(e, FLASH_BWD, 2.5 * 4.0 * B * H * S * S * D / 2 / (PEAK_BF16 * 0.40) * 1e6)
            mm_bwd(T, h, 3 * h)
            simple("aten::native_layer_norm_backward", LAYERNORM, 4 * act,
                   [[B, S, h], [B, S, h], [h], [B, S, 1], [B, S, 1], [h], [h], []])
            nel = int(bucket_bytes // 2)
            e = t.op("record_param_comms", dur=10)
            t.launch(e, NCCL, bucket_bytes * 2 * (WORLD - 1) / WORLD / BUSBW * 1e6,
                     stream=COMM_STREAM, after=t.gpu,
                     extra={"Collective name": "allreduce", "In msg nelems": nel,
                            "Out msg nelems": nel, "Group size": WORLD, "dtype": "BFloat16",
                            "Process Group Ranks": "[0, 1]"})
        # The optimizer waits for the last all-reduce.
        t.gpu = max(t.gpu, t.comm)
        e = t.op("Optimizer.step#AdamW.step", dur=30)
        t.launch(e, ADAMW, mem_us(16 * (params_per_layer * L + V * h)))
        t.cpu = max(t.cpu + 20, t.gpu - 150)  # the host syncs on the loss now and then
        t.events.insert(step_events_at, {
            "ph": "X", "cat": "user_annotation", "name": f"ProfilerStep#{step + 1}", "pid": PID,
            "tid": TID, "ts": round(step_start, 3), "dur": round(t.cpu - step_start, 3),
            "args": {"External id": step_ext}})
        t.cpu += 5
    return t


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else
               Path(__file__).resolve().parent.parent / "examples/traces/synthetic-kineto-llm.json.gz")
    t = build()
    doc = {
        "schemaVersion": 1,
        "metadata": {"synthetic": True,
                     "generator": "scripts/make_example_trace.py",
                     "note": "SYNTHETIC trace for the goodput quick start; durations are modelled, "
                             "not measured",
                     "model": "examples/models/synthetic-gpt-small.json"},
        "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "totalGlobalMem": 85018279936,
                              "computeMajor": 9, "computeMinor": 0, "maxThreadsPerBlock": 1024,
                              "numSms": 132}],
        "distributedInfo": {"backend": "nccl", "rank": 0, "world_size": WORLD,
                            "nccl_version": "2.21.5"},
        "record_shapes": 1,
        "displayTimeUnit": "ms",
        "baseTimeNanoseconds": 1700000000000000000,
        "traceName": "synthetic-kineto-llm",
        "traceEvents": t.events,
    }
    text = json.dumps(doc, separators=(",", ":")).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        # No name and mtime=0 in the gzip header keep the file byte-for-byte reproducible.
        with gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(text)
    print(f"{out}: {len(t.events)} events, {len(text)} bytes of JSON, "
          f"{out.stat().st_size} bytes compressed")


if __name__ == "__main__":
    main()
