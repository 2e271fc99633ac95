// Host-callable entry points of the GPU side. No CUDA header here: host code may include this.
// In a build without CUDA the same functions exist and report that no GPU can be used.
#pragma once
#include <vector>

#include "harness/core/device_info.hpp"

namespace goodput::gpu {

// False in a host-only build (-DGOODPUT_CUDA=OFF or no nvcc).
bool built_with_cuda();
// Every visible GPU. Throws NoGpuError with one clear line when there is no driver, no device,
// or the build has no CUDA.
std::vector<DeviceInfo> list_devices();

}  // namespace goodput::gpu
