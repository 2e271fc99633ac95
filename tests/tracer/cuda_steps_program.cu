// A CUDA program with NVTX "step" ranges, for the tracer's GPU tests (per-step counters).
//   cuda_steps_program STEPS THREADS FMAS
// Each step launches one kernel in which each of THREADS threads runs a dependent chain of FMAS
// single-precision FMAs and no other floating-point instruction, so a step executes exactly
// THREADS·FMAS FFMA thread instructions (smsp__sass_thread_inst_executed_op_ffma_pred_on.sum).
// Exits 77 when there is no usable GPU (the test skips).
#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include <cstdio>
#include <cstdlib>

namespace {

__global__ void fma_chain(const float* in, float* out, int fmas) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  float acc = in[i];
  const float a = in[i + 1], b = in[i + 2];
  for (int k = 0; k < fmas; ++k) acc = fmaf(acc, a, b);
  out[i] = acc;
}

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s STEPS THREADS FMAS\n", argv[0]);
    return 2;
  }
  const int steps = std::atoi(argv[1]), threads = std::atoi(argv[2]), fmas = std::atoi(argv[3]);
  constexpr int kBlock = 128;
  if (steps < 1 || threads < kBlock || threads % kBlock != 0 || fmas < 1) return 2;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) return 77;
  float *in = nullptr, *out = nullptr;
  const std::size_t n = static_cast<std::size_t>(threads) + 2;
  if (!ok(cudaMalloc(&in, n * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&out, n * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMemset(in, 0, n * sizeof(float)), "cudaMemset"))
    return 1;
  for (int s = 0; s < steps; ++s) {
    nvtxRangePushA("step");
    fma_chain<<<threads / kBlock, kBlock>>>(in, out, fmas);
    if (!ok(cudaGetLastError(), "launch") || !ok(cudaDeviceSynchronize(), "sync")) return 1;
    nvtxRangePop();
  }
  cudaFree(in);
  cudaFree(out);
  return 0;
}
