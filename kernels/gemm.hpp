// cuBLASLt GEMM calibration workloads (gemm.cu). Host-callable; no CUDA header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/core/workload.hpp"
#include "kernels/models.hpp"

namespace goodput::kernels {

struct GemmConfig {
  GemmDtype dtype = GemmDtype::kBf16;
  GemmProblem problem;
  int device = 0;
  int sets = 1;           // rotating buffer sets (rotation_sets(): together >= 2x L2)
  int candidates = 8;     // heuristic algorithms timed in setup(); the fastest is kept
  double tuning_ms = 20;  // timed work per candidate in setup()
  int tuning_runs = 100;  // at most this many timed runs per candidate (at least 3)
  std::size_t workspace_bytes = 64ull << 20;
  int sampled_checks = 64;  // (i, j) entries of the full problem checked on the host
  std::vector<std::int64_t> small_sizes = {256, 512, 1024};  // small cube for the full check
  std::uint64_t seed = 7;
  // fp8 only: cuBLASLt's fast accumulation (CUBLASLT_MATMUL_DESC_FAST_ACCUM) skips the periodic
  // promotion of Hopper's reduced-precision fp8 accumulator: faster, less accurate. Off by default.
  bool fp8_fast_accum = false;
};

// Throws InputError on a non-positive dimension or set count.
WorkloadPtr make_gemm_workload(const GemmConfig& config);

// Converts `values` on the device to `storage` (fp64, fp32, fp16, bf16, e4m3; the same
// conversions the GEMM inputs use) and returns the stored bytes. For testing the host codecs.
std::vector<unsigned char> device_encode(const std::string& storage,
                                         const std::vector<float>& values, int device = 0);

}  // namespace goodput::kernels
