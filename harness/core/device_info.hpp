// Plain description of one GPU, filled by the GPU side (harness/gpu) and used by host code.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace goodput {

struct DeviceInfo {
  int index = 0;
  std::string name;  // as the driver reports it, e.g. "NVIDIA H100 80GB HBM3"
  std::string uuid;
  std::string pci_bus_id;
  int cc_major = 0, cc_minor = 0;  // compute capability
  int sms = 0;
  std::uint64_t memory_bytes = 0;
  std::uint64_t l2_bytes = 0;
  int memory_bus_bits = 0;
  double sm_clock_mhz_current = 0;  // 0 when unknown
  double sm_clock_mhz_max = 0;
  double mem_clock_mhz_max = 0;
  int driver_version = 0;      // cudaDriverGetVersion, e.g. 13000
  std::string driver_release;  // NVML driver string, e.g. "580.65.06", "" when unknown
  int runtime_version = 0;     // cudaRuntimeGetVersion
  std::size_t cublas_version = 0;
  int nccl_version = 0;
  bool ecc_enabled = false;
  int mig_mode = -1;  // -1 unknown, 0 off, 1 on
};

nlohmann::json to_json(const DeviceInfo& d);
DeviceInfo device_from_json(const nlohmann::json& j);
// "sm_90" style key for the compute capability (sm_90a is not a separate part: same peaks).
std::string arch_key(int cc_major, int cc_minor);

}  // namespace goodput
