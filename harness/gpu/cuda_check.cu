#include <cublasLt.h>

#include "harness/gpu/cuda_check.cuh"

namespace goodput::gpu {

bool is_no_gpu_error(cudaError_t err) {
  return err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ||
         err == cudaErrorInitializationError || err == cudaErrorSystemDriverMismatch ||
         err == cudaErrorCompatNotSupportedOnDevice || err == cudaErrorDevicesUnavailable;
}

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  std::string msg = std::string(file) + ":" + std::to_string(line) + ": " + expr +
                    " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
  if (is_no_gpu_error(err)) throw NoGpuError(msg);
  if (err == cudaErrorMemoryAllocation) throw DeviceOutOfMemory(msg);
  throw RuntimeFailure(msg);
}

void throw_cublas_error(int status, const char* expr, const char* file, int line) {
  const auto st = static_cast<cublasStatus_t>(status);
  const std::string msg = std::string(file) + ":" + std::to_string(line) + ": " + expr +
                          " failed: " + cublasLtGetStatusName(st) + ": " +
                          cublasLtGetStatusString(st);
  if (st == CUBLAS_STATUS_ALLOC_FAILED) throw DeviceOutOfMemory(msg);
  throw RuntimeFailure(msg);
}

}  // namespace goodput::gpu
