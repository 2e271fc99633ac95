// Device discovery through the CUDA runtime; versions of the GPU libraries goodput uses.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "harness/core/error.hpp"
#include "harness/gpu/cuda_check.cuh"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/libraries.hpp"

namespace goodput::gpu {
namespace {

std::string uuid_string(const cudaUUID_t& u) {
  static const char* hex = "0123456789abcdef";
  std::string s = "GPU-";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    const auto b = static_cast<unsigned char>(u.bytes[i]);
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

int attribute(cudaDeviceAttr attr, int dev) {
  int v = 0;
  return cudaDeviceGetAttribute(&v, attr, dev) == cudaSuccess ? v : 0;
}

}  // namespace

bool built_with_cuda() {
  return true;
}

std::vector<DeviceInfo> list_devices() {
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (driver == 0)
    throw NoGpuError(
        "no NVIDIA driver found (libcuda.so.1 could not be loaded); no GPU can be used");
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    throw NoGpuError(std::string("no usable GPU: ") +
                     (err == cudaSuccess
                          ? "the driver reports 0 devices"
                          : std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err)));
  }
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  // 0 when the library is not installed: listing devices does not need it.
  int nccl = 0;
  if (nccl_library().available()) ncclGetVersion(&nccl);
  const int cublas = cublaslt_library().available() ? static_cast<int>(cublasLtGetVersion()) : 0;
  std::vector<DeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    GOODPUT_CUDA_CHECK(cudaGetDeviceProperties(&p, i));
    DeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.uuid = uuid_string(p.uuid);
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, i) == cudaSuccess) d.pci_bus_id = bus;
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.sms = p.multiProcessorCount;
    d.memory_bytes = p.totalGlobalMem;
    d.l2_bytes = static_cast<std::uint64_t>(p.l2CacheSize);
    d.memory_bus_bits = p.memoryBusWidth;
    d.sm_clock_mhz_max = attribute(cudaDevAttrClockRate, i) / 1000.0;  // kHz
    d.mem_clock_mhz_max = attribute(cudaDevAttrMemoryClockRate, i) / 1000.0;
    d.ecc_enabled = p.ECCEnabled != 0;
    d.driver_version = driver;
    d.runtime_version = runtime;
    d.cublas_version = cublas;
    d.nccl_version = nccl;
    out.push_back(d);
  }
  return out;
}

}  // namespace goodput::gpu
