// Synthetic measurements of an H100 SXM, built the way the GPU side builds them, for tests of
// the result and peak-profile arithmetic and of the results schema.
#pragma once
#include <string>
#include <vector>

#include "harness/core/gpu_spec.hpp"
#include "harness/core/timing.hpp"

namespace goodput::testing {

inline DeviceInfo h100_sxm() {
  DeviceInfo d;
  d.name = "NVIDIA H100 80GB HBM3";
  d.uuid = "GPU-00000000-0000-0000-0000-000000000000";
  d.pci_bus_id = "00000000:18:00.0";
  d.cc_major = 9;
  d.sms = 132;
  d.memory_bytes = 85520809984ull;
  d.l2_bytes = 52428800;
  d.sm_clock_mhz_max = 1980;
  d.sm_clock_mhz_current = 1755;
  d.driver_version = 13000;
  d.runtime_version = 13000;
  return d;
}

// `n` samples around `seconds` (+-0.5 %), each with telemetry at `clock_mhz`.
inline Measurement synthetic(const std::string& name, const std::string& kind,
                             nlohmann::json params, double flops, double bytes, double seconds,
                             double clock_mhz, int n = 10) {
  Measurement m;
  m.name = name;
  m.kind = kind;
  m.params = std::move(params);
  m.flops_per_run = flops;
  m.bytes_per_run = bytes;
  m.footprint_bytes = 1u << 30;
  for (int i = 0; i < n; ++i) {
    m.samples.push_back(seconds * (1.0 + 0.005 * ((i % 3) - 1)));
    TelemetrySample t;
    t.sm_clock_mhz = clock_mhz;
    t.mem_clock_mhz = 2619;
    t.power_w = 650;
    t.temperature_c = 60;
    t.clocks_event_reasons = i == 0 ? 0x4 : 0x0;
    t.throttled = throttled_by(*t.clocks_event_reasons);
    m.telemetry.push_back(t);
  }
  m.warmup_times = {seconds * 2, seconds, seconds, seconds};
  m.warmup_end = WarmupEnd::kSettled;
  m.stop_reason = StopReason::kSpreadReached;
  return m;
}

// A calibrate-like set: memory ops, GEMMs per dtype, one skipped and one failed workload.
inline std::vector<Measurement> synthetic_calibration() {
  std::vector<Measurement> v;
  const double gb = 4.0 * (1u << 30);
  v.push_back(synthetic("memory/read", "memory", {{"op", "read"}, {"bytes", gb}}, 0, gb,
                        gb / 3.2e12, 1980));
  v.push_back(synthetic("memory/copy", "memory", {{"op", "copy"}, {"bytes", gb}}, 0, 2 * gb,
                        2 * gb / 2.9e12, 1980));
  const double f8k = 2.0 * 8192.0 * 8192.0 * 8192.0;
  v.push_back(synthetic("gemm/bf16/8192x8192x8192", "gemm",
                        {{"dtype", "bf16"}, {"m", 8192}, {"n", 8192}, {"k", 8192}}, f8k, 0,
                        f8k / 795e12, 1755));
  v.push_back(synthetic("gemm/bf16/4096x4096x4096", "gemm",
                        {{"dtype", "bf16"}, {"m", 4096}, {"n", 4096}, {"k", 4096}}, f8k / 8, 0,
                        f8k / 8 / 700e12, 1755));
  v.back().details = {{"algorithm", {{"id", 6}, {"tile", "128x256"}}}};
  v.push_back(synthetic("gemm/fp8_e4m3/8192x8192x8192", "gemm",
                        {{"dtype", "fp8_e4m3"}, {"m", 8192}, {"n", 8192}, {"k", 8192}}, f8k, 0,
                        f8k / 1300e12, 1700));
  Measurement skipped;
  skipped.name = "gemm/fp64/16384x16384x16384";
  skipped.kind = "gemm";
  skipped.params = {{"dtype", "fp64"}};
  skipped.status = "skipped";
  skipped.message = "needs 96.00 GiB, 79.10 GiB free";
  v.push_back(skipped);
  Measurement failed = skipped;
  failed.name = "gemm/tf32/1024x1024x1024";
  failed.params = {{"dtype", "tf32"}};
  failed.status = "error";
  failed.message = "verification failed: 12 of 1048576 elements differ";
  v.push_back(failed);
  return v;
}

}  // namespace goodput::testing
