// Clock, power, temperature and throttle telemetry through NVML, opened at run time (dlopen) so
// binaries start without a driver. Everything reports "not available" when NVML is missing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/core/device_info.hpp"

namespace goodput::gpu {

struct TelemetrySample {
  std::optional<double> sm_clock_mhz;
  std::optional<double> mem_clock_mhz;
  std::optional<double> power_w;
  std::optional<double> temperature_c;
  std::optional<std::uint64_t> throttle_reasons;  // NVML clocks-event reasons bit mask
  bool throttled = false;  // a reason other than idle / application clocks was active
};

// True when NVML could be loaded and initialised.
bool nvml_available();
// Why NVML is not available ("" when it is).
std::string nvml_unavailable_reason();
// Current clocks/power/temperature of a device (by CUDA index, matched through the PCI bus id).
TelemetrySample sample_telemetry(const DeviceInfo& dev);
// Fills the NVML-only fields of DeviceInfo: current SM clock, driver release, MIG mode.
void fill_from_nvml(DeviceInfo& dev);
nlohmann::json to_json(const TelemetrySample& s);

}  // namespace goodput::gpu
