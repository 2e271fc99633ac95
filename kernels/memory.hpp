// Memory-bandwidth workloads (memory.cu). Host-callable; no CUDA header.
#pragma once
#include <cstdint>

#include "harness/core/workload.hpp"
#include "kernels/models.hpp"

namespace goodput::kernels {

struct MemoryConfig {
  MemoryOp op = MemoryOp::kCopy;
  std::uint64_t elements = 0;  // floats per array; a multiple of grid_quantum(grid, 4)
  MemoryGrid grid;
  int device = 0;
  std::uint64_t seed = 1;
  float triad_scalar = 0.4f;
  std::size_t sampled_checks = 4096;  // random elements compared, besides both ends of the array
};

// Throws InputError when the element count is not a whole number of grid passes.
WorkloadPtr make_memory_workload(const MemoryConfig& config);

}  // namespace goodput::kernels
