#!/usr/bin/env python3
"""Random well-formed traces with odd meaning through `goodput analyze` (best: an ASan/UBSan build).

Byte-level fuzzing (scripts/fuzz.sh) rarely gets past the reader; these traces always parse and
then stress the analysis: zero and huge sizes in recorded shapes, negative sizes, kernels before
their launch, steps that overlap or hold no GPU work, NCCL args of every kind, host waits
(cuda_sync) on odd streams, one to three ranks, unknown GPUs, and random options (--step-marker, --model, --gpu, --warmup, --trace-out,
--window, --full, --top). Every run must exit 0 or 2, print no sanitizer report, and leave valid
JSON (no NaN) in its results file and annotated trace. Exit 1 and the seeds that failed otherwise.

  CC=clang CXX=clang++ cmake -S . -B build/asan -G Ninja -DGOODPUT_CUDA=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    -DCMAKE_{EXE,SHARED,MODULE}_LINKER_FLAGS="-fsanitize=address,undefined -shared-libsan"
  ninja -C build/asan goodput
  LD_LIBRARY_PATH=$(dirname $(clang -print-file-name=libclang_rt.asan-x86_64.so)) \
    scripts/analyze_semantic_fuzz.py build/asan/apps/goodput 0 500
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = sorted(glob.glob(os.path.join(ROOT, 'examples', 'models', '*.json')))
NAMES = ["sm90_xmma_gemm_bf16bf16_bf16f32_tn", "ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_tn",
         "void at::native::vectorized_elementwise_kernel<4>(int)", "flash_fwd_kernel",
         "fmha_cutlassF_bf16_aligned_64x64_rf_sm80", "Memcpy HtoD (Pageable -> Device)", "Memset (Device)",
         "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
         "ncclKernel_AllGather_RING_LL_Sum_int8_t(ncclWorkElem)", "multimem_all_reduce_kernel",
         "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_32x6_tn_align8>(x)",
         "", "k\"quote", "ncclDevKernel_SendRecv(x)", "triton_poi_fused_0"]
OPS = ["aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::linear", "aten::matmul",
       "aten::_scaled_dot_product_flash_attention", "aten::scaled_dot_product_attention",
       "aten::_flash_attention_forward", "aten::add", "aten::copy_", "ProfilerStep#5", "step"]
GPUS = ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB", "NVIDIA H200", "Mystery GPU", "", "NVIDIA B200"]


def rnd_dims(r):
    k = r.randint(0, 4)
    out = []
    for _ in range(k):
        out.append([r.choice([0, 1, 2, 7, 64, 128, 4096, 2**31, -1]) for _ in range(r.randint(0, 4))])
    return out


def make_rank(r, rank, world):
    ev = []
    t0 = r.choice([0, 1.5, 1e6, 1.7e15, 4458676522690.655])
    t = t0
    corr = r.randint(0, 10**6)
    nsteps = r.choice([0, 1, 2, 3, 5, 30])
    marker = r.choice(["ProfilerStep#", "step", "train_step"])
    for s in range(nsteps):
        st = t
        for _ in range(r.randint(0, 12)):
            t += r.choice([0, 1, 5, 100, 3000])
            op = r.choice(OPS)
            args = {"External id": corr}
            if r.random() < 0.7:
                args["Input Dims"] = rnd_dims(r)
                args["Input type"] = [r.choice(["c10::BFloat16", "float", "c10::Half", "Scalar", "", "int"]) for _ in args["Input Dims"]]
            if r.random() < 0.2:
                args["flops"] = r.choice([0, 1, 1e12, 1e30, -5])
            if r.random() < 0.1:
                args["stream"] = 0
            ev.append({"ph": "X", "cat": "cpu_op", "name": op, "pid": 1, "tid": r.choice([1, 2]),
                       "ts": t, "dur": r.choice([0, 1, 10, 500]), "args": args})
            if r.random() < 0.9:
                c = corr if r.random() < 0.9 else r.randint(0, 5)
                ev.append({"ph": "X", "cat": r.choice(["cuda_runtime", "cuda_driver"]), "name": "cudaLaunchKernel",
                           "pid": 1, "tid": 1, "ts": t + 0.5, "dur": r.choice([0, 2, 9]),
                           "args": {"correlation": c, "External id": corr}})
            name = r.choice(NAMES)
            cat = "gpu_memcpy" if name.startswith("Memcpy") else "gpu_memset" if name.startswith("Memset") else "kernel"
            kargs = {"device": r.choice([0, 0, 1, -1]), "stream": r.choice([7, 7, 13, -1]), "correlation": corr,
                     "External id": corr, "grid": [r.randint(0, 4), 1, 1], "block": [128, 1, 1]}
            if "nccl" in name and r.random() < 0.8:
                kargs.update({"Collective name": r.choice(["allreduce", "allgather", "reduce_scatter", "send", "weird", ""]),
                              "In msg nelems": r.choice([0, 1, 1024, 2**40]), "Out msg nelems": r.choice([0, 8192]),
                              "Group size": r.choice([0, 1, 2, 8, -3]), "dtype": r.choice(["BFloat16", "Float", "Weird", ""]),
                              "Process Group Ranks": "[0, 1]"})
            ev.append({"ph": "X", "cat": cat, "name": name, "pid": 0, "tid": 7,
                       "ts": t + r.choice([-10, 0, 3, 50, 10**5]), "dur": r.choice([0, 0.5, 1, 30, 2000]), "args": kargs})
            if r.random() < 0.5:
                ev.append({"ph": "s", "id": corr, "pid": 1, "tid": 1, "ts": t, "cat": "ac2g", "name": "ac2g"})
            if r.random() < 0.15:
                kind = r.choice(["Stream Sync", "Event Sync", "Stream Wait Event", "Context Sync", ""])
                ev.append({"ph": "X", "cat": "cuda_sync", "name": kind, "pid": 1, "tid": 1,
                           "ts": t + r.choice([-3, 0, 2]), "dur": r.choice([0, 0.5, 4, 10**6]),
                           "args": {"stream": r.choice([7, -1, 13, -7]), "correlation": r.choice([corr, -1, 0]),
                                    "cuda_sync_kind": kind}})
            corr += 1
        t += r.choice([0, 10, 1000])
        name = (marker + str(s + r.choice([0, 0, 0, 7]))) if marker == "ProfilerStep#" else marker
        ev.append({"ph": "X", "cat": r.choice(["user_annotation", "cpu_op", "gpu_user_annotation"]), "name": name,
                   "pid": 1, "tid": 1, "ts": st + r.choice([0, 0, -5, 20]), "dur": max(0, t - st + r.choice([0, 0, -50, 30]))})
    if r.random() < 0.3:
        r.shuffle(ev)
    doc = {"traceEvents": ev}
    if r.random() < 0.8:
        doc["deviceProperties"] = [{"id": 0, "name": r.choice(GPUS), "numSms": r.choice([132, 0, 108, 7]),
                                    "computeMajor": r.choice([9, 8, 0]), "computeMinor": 0, "totalGlobalMem": 85031714816}]
    if world > 1 and r.random() < 0.9:
        doc["distributedInfo"] = {"rank": rank, "world_size": world, "backend": "nccl"}
    if r.random() < 0.3:
        doc["baseTimeNanoseconds"] = r.choice([0, 1700000000000000000])
    return doc, marker


def main():
    binary = sys.argv[1]
    lo, hi = int(sys.argv[2]), int(sys.argv[3])
    bad = 0
    codes = {}
    for seed in range(lo, hi):
        r = random.Random(seed)
        d = tempfile.mkdtemp(prefix='goodput_semfuzz_')
        world = r.choice([1, 1, 2, 3])
        files = []
        marker = None
        for k in range(world):
            doc, marker = make_rank(r, k, world)
            p = os.path.join(d, 'rank%d.json' % k)
            json.dump(doc, open(p, 'w'))
            files.append(p)
        args = [binary, 'analyze', *files, '--json', os.path.join(d, 'out.json')]
        if r.random() < 0.5 and marker != "ProfilerStep#":
            args += ['--step-marker', marker]
        if r.random() < 0.4:
            args += ['--model', r.choice(MODELS)]
        elif r.random() < 0.2:
            args += ['--flops-per-step', str(r.choice([1, 1e15, 0.5]))]
        if r.random() < 0.3:
            args += ['--warmup', str(r.choice([0, 1, 5, 100]))]
        if r.random() < 0.3:
            args += ['--gpu', r.choice(['h100 sxm5', 'nope', 'a100-sxm4-80gb', 'b200', 'l4'])]
        if r.random() < 0.3:
            args += ['--trace-out', os.path.join(d, 'annot.json')]
        if r.random() < 0.2:
            args += ['--full']
        if r.random() < 0.2:
            args += ['--top', str(r.choice([0, 1, 3]))]
        if r.random() < 0.1:
            args += ['--window', r.choice(['0:100', '100:50', 'x'])]
        env = dict(os.environ, GOODPUT_DATA_DIR=os.path.join(ROOT, 'results'),
                   ASAN_OPTIONS='detect_leaks=1', UBSAN_OPTIONS='print_stacktrace=1:halt_on_error=1')
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
        except subprocess.TimeoutExpired:
            print('seed', seed, 'TIMEOUT', args); bad += 1; continue
        codes[p.returncode] = codes.get(p.returncode, 0) + 1
        problem = None
        if p.returncode not in (0, 2):
            problem = 'exit %d' % p.returncode
        elif 'runtime error' in p.stderr or 'AddressSanitizer' in p.stderr or 'LeakSanitizer' in p.stderr:
            problem = 'sanitizer'
        else:
            out = os.path.join(d, 'out.json')
            try:
                j = json.load(open(out), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
                st = j.get('status') or j.get('analysis', {}).get('status')
            except Exception as e:
                problem = 'bad results json: %r' % e
            if os.path.exists(os.path.join(d, 'annot.json')) and p.returncode == 0:
                try:
                    json.load(open(os.path.join(d, 'annot.json')), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
                except Exception as e:
                    problem = 'bad annotated trace: %r' % e
        if problem:
            bad += 1
            print('seed', seed, problem, ' '.join(args[2:]).replace(d, '$D'))
            print('   ', (p.stderr.strip().splitlines() or [''])[-1][:300])
            for l in p.stderr.splitlines():
                if 'runtime error' in l or 'ERROR: AddressSanitizer' in l: print('   ', l[:300]); break
        else:
            subprocess.run(['rm', '-rf', d])
    print('seeds', lo, hi, 'problems', bad, 'exit codes', codes)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
