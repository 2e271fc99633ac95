// FLOP and byte models, buffer sizing and problem lists of the calibration kernels. Host-only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/core/device_info.hpp"

namespace goodput::kernels {

// ---- memory bandwidth ----------------------------------------------------------------------

// read: sum(a); write: a = v; copy: b = a; triad: a = b + s*c; memcpy: cudaMemcpyAsync D2D.
enum class MemoryOp { kRead, kWrite, kCopy, kTriad, kMemcpy };
const std::vector<MemoryOp>& memory_ops();  // run order
const char* to_string(MemoryOp op);

// Arrays streamed per element: bytes moved = (reads + writes) * N * element size.
struct MemoryTraffic {
  int reads = 0;
  int writes = 0;
};
MemoryTraffic memory_traffic(MemoryOp op);
int memory_arrays(MemoryOp op);  // arrays allocated
double memory_bytes(MemoryOp op, std::uint64_t elements, std::size_t element_bytes);

// Launch shape of the grid-stride kernels: every SM gets as many resident blocks as it holds, and
// each thread keeps `unroll` 16-byte loads in flight before using them.
struct MemoryGrid {
  int blocks = 0;
  int threads = 256;
  int unroll = 4;
  int vector_bytes = 16;
};
int max_threads_per_sm(int cc_major, int cc_minor);
MemoryGrid memory_grid(const DeviceInfo& dev);
// Elements covered by one pass of the whole grid (every thread does `unroll` vectors).
std::uint64_t grid_quantum(const MemoryGrid& g, std::size_t element_bytes);
// Elements per array: at least 4x L2 (so nothing stays cached between runs) and at least
// min_bytes, rounded up to whole grid passes so the kernels need no bounds checks.
std::uint64_t memory_elements(std::uint64_t l2_bytes, std::uint64_t min_bytes, const MemoryGrid& g,
                              std::size_t element_bytes);
// Default minimum array size: 1 GiB (quick: 256 MiB), long enough that launch cost vanishes.
std::uint64_t memory_min_bytes(bool quick);

// ---- GEMM ----------------------------------------------------------------------------------

enum class GemmDtype { kFp64, kFp32, kTf32, kFp16, kBf16, kFp8E4m3 };

struct DtypeInfo {
  GemmDtype id;
  const char* name;      // "bf16"
  const char* peak_key;  // key of the peak it is held against (harness/core/gpu_spec.hpp)
  const char* input;     // storage of A and B: fp64, fp32, fp16, bf16, e4m3
  const char* output;    // storage of D
  std::size_t a_bytes, b_bytes, d_bytes;
  int min_cc;  // compute capability as major*10+minor
  // Verification tolerance, in units of the output's standard deviation sqrt(K) for unit-normal
  // inputs (atol) and relative to the reference (rtol). The reference uses the exact stored
  // inputs, so only accumulation order, tensor-core input rounding (tf32) and output rounding
  // count.
  double atol, rtol;
  bool llm_shapes;  // also run the LLM-shaped problems (the training dtypes)
};
const std::vector<DtypeInfo>& gemm_dtypes();
const DtypeInfo& dtype_info(GemmDtype id);
const DtypeInfo& dtype_by_name(const std::string& name);  // InputError when unknown
bool dtype_supported(const DtypeInfo& d, int cc_major, int cc_minor);

double gemm_flops(std::int64_t m, std::int64_t n, std::int64_t k);  // 2*M*N*K
// Minimum traffic: read A and B once, write D once (beta = 0, C not read).
double gemm_bytes(std::int64_t m, std::int64_t n, std::int64_t k, const DtypeInfo& d);
double arithmetic_intensity(double flops, double bytes);  // FLOP per byte

// D(MxN) = A(MxK) * B(KxN). LLM problems use M = tokens, N = output features, K = input features.
struct GemmProblem {
  std::string label;  // "square" or e.g. "llama3-8b/mlp_up/t4096"
  std::int64_t m = 0, n = 0, k = 0;
};
std::vector<GemmProblem> square_problems(bool quick);  // 1024..16384 (quick: 4096, 8192)
// Llama-3-8B and -70B projections: QKV (fused, GQA with 8 KV heads), attention output, MLP gate+up
// (fused) and down, at 4096 and 16384 tokens (quick: none).
std::vector<GemmProblem> llm_problems(bool quick);
std::vector<GemmProblem> gemm_problems(const DtypeInfo& d, bool quick);

// Bytes of one buffer set (A, B and D).
std::uint64_t gemm_set_bytes(const GemmProblem& p, const DtypeInfo& d);
// Buffer sets to rotate through so that together they are >= 2x L2 and each run starts cold.
int rotation_sets(std::uint64_t l2_bytes, std::uint64_t set_bytes);

}  // namespace goodput::kernels
