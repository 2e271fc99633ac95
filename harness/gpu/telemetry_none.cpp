// Telemetry in a build without nvml.h: every field is "not available".
#include "harness/gpu/telemetry.hpp"

namespace goodput::gpu {

bool nvml_available() {
  return false;
}
std::string nvml_unavailable_reason() {
  return "built without nvml.h";
}
TelemetrySample sample_telemetry(const DeviceInfo&) {
  return {};
}
void fill_from_nvml(DeviceInfo&) {}

}  // namespace goodput::gpu
