// Telemetry in a build without NVML: every field is "not available".
#include "harness/gpu/telemetry.hpp"

namespace goodput::gpu {

bool nvml_available() { return false; }
std::string nvml_unavailable_reason() { return "built without nvml.h"; }
TelemetrySample sample_telemetry(const DeviceInfo&) { return {}; }
void fill_from_nvml(DeviceInfo&) {}

nlohmann::json to_json(const TelemetrySample& s) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json("not available"); };
  return {{"sm_clock_mhz", opt(s.sm_clock_mhz)}, {"mem_clock_mhz", opt(s.mem_clock_mhz)},
          {"power_w", opt(s.power_w)},           {"temperature_c", opt(s.temperature_c)},
          {"throttle_reasons", opt(s.throttle_reasons)}, {"throttled", s.throttled}};
}

}  // namespace goodput::gpu
