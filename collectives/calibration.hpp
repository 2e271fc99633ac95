// What `goodput calibrate` adds for the interconnect: all_reduce and all_gather bus bandwidth at a
// large size over every GPU given, one process. Host-callable; NoGpuError without a GPU.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/device_info.hpp"

namespace goodput::collectives {

// Result entries (kind "collective", results schema) for all_reduce and all_gather, fp32 sum,
// out-of-place, at 1 GiB (quick: 256 MiB), capped at 1/8 of the smallest GPU memory. With one
// GPU busbw is 0 by definition (nothing crosses a link); algbw is still measured. Throws
// CheckFailed when an output element is wrong.
nlohmann::json calibration_busbw(const std::vector<DeviceInfo>& devices, bool quick);

// The best busbw per collective among `ok` collective results (the peak profile's interconnect
// section): busbw, algbw, result name, ranks (params.nranks) and the link peak comparison.
// Host-only.
nlohmann::json best_busbw(const nlohmann::json& results);

}  // namespace goodput::collectives
