// Clock, power, temperature and throttle telemetry through NVML, opened at run time (dlopen) so
// binaries start without a driver. Everything reports "not available" when NVML is missing.
#pragma once
#include <string>

#include "harness/core/device_info.hpp"
#include "harness/core/timing.hpp"

namespace goodput::gpu {

using goodput::TelemetrySample;

// True when NVML could be loaded and initialised.
bool nvml_available();
// Why NVML is not available ("" when it is).
std::string nvml_unavailable_reason();
// Current clocks/power/temperature/clock-event reasons of a device, found by its PCI bus id.
// Fields NVML cannot give stay empty; never throws.
TelemetrySample sample_telemetry(const DeviceInfo& dev);
// Fills the NVML-only fields of DeviceInfo: current SM clock (and max SM/memory clock where the
// runtime gave none), driver release, MIG mode.
void fill_from_nvml(DeviceInfo& dev);

}  // namespace goodput::gpu
