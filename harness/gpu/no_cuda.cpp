// The GPU entry points of a host-only build: every one reports that no GPU can be used.
#include "harness/core/error.hpp"
#include "harness/gpu/gpu.hpp"

namespace goodput::gpu {

bool built_with_cuda() { return false; }

std::vector<DeviceInfo> list_devices() {
  throw NoGpuError(
      "this goodput was built without CUDA (-DGOODPUT_CUDA=OFF or no nvcc); GPU commands are "
      "unavailable, analyze/ledger/compare work");
}

}  // namespace goodput::gpu
