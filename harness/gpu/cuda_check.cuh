// One checking macro per library, defined once. They throw RuntimeFailure (or NoGpuError for a
// missing driver/device) with file, line, expression and the library's own message. Destructors
// use the _NOTHROW twins, which only report.
#pragma once
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "harness/core/error.hpp"

namespace goodput::gpu {

// An allocation failed (cudaErrorMemoryAllocation, CUBLAS_STATUS_ALLOC_FAILED): the harness
// records the workload as skipped rather than failed.
struct DeviceOutOfMemory : RuntimeFailure {
  using RuntimeFailure::RuntimeFailure;
};

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(int status, const char* expr, const char* file, int line);
// True for errors that mean "no usable GPU" rather than a failure of the work.
bool is_no_gpu_error(cudaError_t err);

}  // namespace goodput::gpu

#define GOODPUT_CUDA_CHECK(expr)                                                 \
  do {                                                                           \
    const cudaError_t goodput_err_ = (expr);                                     \
    if (goodput_err_ != cudaSuccess)                                             \
      ::goodput::gpu::throw_cuda_error(goodput_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define GOODPUT_CUDA_CHECK_NOTHROW(expr)                                                 \
  do {                                                                                   \
    const cudaError_t goodput_err_ = (expr);                                             \
    if (goodput_err_ != cudaSuccess)                                                     \
      std::fprintf(stderr, "goodput: %s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, \
                   cudaGetErrorString(goodput_err_));                                    \
  } while (0)

#define GOODPUT_CUBLAS_CHECK(expr)                                                \
  do {                                                                            \
    const int goodput_st_ = static_cast<int>(expr);                               \
    if (goodput_st_ != 0)                                                         \
      ::goodput::gpu::throw_cublas_error(goodput_st_, #expr, __FILE__, __LINE__); \
  } while (0)
