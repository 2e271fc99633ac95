#include "harness/core/device_info.hpp"

namespace goodput {

std::string arch_key(int cc_major, int cc_minor) {
  return "sm_" + std::to_string(cc_major) + std::to_string(cc_minor);
}

nlohmann::json to_json(const DeviceInfo& d) {
  return {{"index", d.index},
          {"name", d.name},
          {"uuid", d.uuid},
          {"pci_bus_id", d.pci_bus_id},
          {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)},
          {"sms", d.sms},
          {"memory_bytes", d.memory_bytes},
          {"l2_bytes", d.l2_bytes},
          {"memory_bus_bits", d.memory_bus_bits},
          {"sm_clock_mhz_current", d.sm_clock_mhz_current},
          {"sm_clock_mhz_max", d.sm_clock_mhz_max},
          {"mem_clock_mhz_max", d.mem_clock_mhz_max},
          {"driver_version", d.driver_version},
          {"driver_release", d.driver_release},
          {"cuda_runtime_version", d.runtime_version},
          {"cublas_version", d.cublas_version},
          {"nccl_version", d.nccl_version},
          {"ecc_enabled", d.ecc_enabled},
          {"mig_mode", d.mig_mode}};
}

DeviceInfo device_from_json(const nlohmann::json& j) {
  DeviceInfo d;
  d.index = j.value("index", 0);
  d.name = j.value("name", "");
  d.uuid = j.value("uuid", "");
  d.pci_bus_id = j.value("pci_bus_id", "");
  const std::string cc = j.value("compute_capability", "0.0");
  const auto dot = cc.find('.');
  d.cc_major = std::stoi(cc.substr(0, dot));
  d.cc_minor = dot == std::string::npos ? 0 : std::stoi(cc.substr(dot + 1));
  d.sms = j.value("sms", 0);
  d.memory_bytes = j.value("memory_bytes", std::uint64_t{0});
  d.l2_bytes = j.value("l2_bytes", std::uint64_t{0});
  d.memory_bus_bits = j.value("memory_bus_bits", 0);
  d.sm_clock_mhz_current = j.value("sm_clock_mhz_current", 0.0);
  d.sm_clock_mhz_max = j.value("sm_clock_mhz_max", 0.0);
  d.mem_clock_mhz_max = j.value("mem_clock_mhz_max", 0.0);
  d.driver_version = j.value("driver_version", 0);
  d.driver_release = j.value("driver_release", "");
  d.runtime_version = j.value("cuda_runtime_version", 0);
  d.cublas_version = j.value("cublas_version", std::size_t{0});
  d.nccl_version = j.value("nccl_version", 0);
  d.ecc_enabled = j.value("ecc_enabled", false);
  d.mig_mode = j.value("mig_mode", -1);
  return d;
}

}  // namespace goodput
