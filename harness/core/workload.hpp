// One configured GPU benchmark, as the timing harness sees it. Implementations live in .cu files
// (kernels/, collectives/); this header has no CUDA so host code can hold and describe them.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace goodput {

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;               // e.g. "gemm/bf16/8192x8192x8192"
  virtual std::string kind() const = 0;               // "memory", "gemm", "collective", ...
  virtual nlohmann::json params() const = 0;          // everything that identifies the problem
  virtual double flops_per_run() const { return 0; }  // model FLOPs of one run()
  virtual double bytes_per_run() const { return 0; }  // bytes read + written by one run()
  // Device memory the workload needs; checked against free memory before setup().
  virtual std::size_t footprint_bytes() const = 0;
  // Allocate, fill with random data, and verify the kernel against a reference; throws
  // CheckFailed on a wrong result (the harness records it and never times the kernel).
  virtual void setup() = 0;
  // Enqueue one run on `stream` (a cudaStream_t). Must not synchronize.
  virtual void run(void* stream) = 0;
  // Switch to the next input buffer set so the next run starts cold (rotation >= 2x L2).
  virtual void rotate() {}
  // Free device memory; called even after a failure.
  virtual void teardown() = 0;
  // Facts found during setup worth keeping with the result (algorithm chosen, verification).
  virtual nlohmann::json details() const { return nlohmann::json::object(); }
};

using WorkloadPtr = std::unique_ptr<Workload>;

}  // namespace goodput
