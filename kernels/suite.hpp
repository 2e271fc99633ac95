// The calibration benchmarks `goodput calibrate` runs, as Workloads the timing harness drives.
// No CUDA here: host code builds the lists; the kernels live in memory.cu and gemm.cu.
#pragma once
#include <vector>

#include "harness/core/device_info.hpp"
#include "harness/core/workload.hpp"

namespace goodput::kernels {

// Benchmarks of `goodput calibrate`, in run order. Constructing allocates nothing (setup() does).
// In a build without CUDA both lists are empty.
std::vector<WorkloadPtr> memory_suite(const DeviceInfo& dev, bool quick);
std::vector<WorkloadPtr> gemm_suite(const DeviceInfo& dev,
                                    bool quick);  // every dtype the arch supports

}  // namespace goodput::kernels
