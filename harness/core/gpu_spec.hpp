// GPU spec data (results/gpu_specs.json): datasheet peaks and per-architecture FLOP/clk/SM, matched
// to a device by name and SM count. Peaks are dense (no structured sparsity), in FLOP/s.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/device_info.hpp"

namespace goodput {

// Data types with a peak: fp64, fp64_tensor, fp32, tf32, fp16, bf16, fp8, fp4, int8.
const std::vector<std::string>& peak_dtypes();

struct ArchSpec {
  std::string key;                                    // "sm_90"
  std::string family;                                 // "Hopper"
  std::map<std::string, double> flop_per_clk_per_sm;  // dense, per data type
};

struct GpuSpec {
  std::string name;                // canonical, e.g. "H100 SXM5 80GB"
  std::vector<std::string> names;  // device-name aliases as drivers report them
  std::string arch;                // "sm_90"
  int sms = 0;
  double boost_clock_mhz = 0;   // max SM clock
  double tensor_clock_mhz = 0;  // clock the datasheet tensor peaks assume
  double memory_gb = 0;
  double hbm_bandwidth_gbps = 0;  // datasheet, GB/s (1e9)
  double l2_mb = 0;
  std::map<std::string, double> datasheet_tflops;  // dense, per data type
  std::string source;                              // where the datasheet numbers come from
};

struct SpecDb {
  std::map<std::string, ArchSpec> archs;
  std::vector<GpuSpec> gpus;
};

// Parse the spec file; InputError names the file and the field on bad data.
SpecDb load_spec_db(const std::string& path);
SpecDb parse_spec_db(const nlohmann::json& j, const std::string& origin);
// results/gpu_specs.json under data_dir().
SpecDb load_default_spec_db();

enum class SpecMatch { kExact, kNameOnly, kDerived };
const char* to_string(SpecMatch m);

struct PeakEntry {
  std::string dtype;
  std::optional<double> datasheet;           // FLOP/s, from the spec file
  std::optional<double> at_datasheet_clock;  // SMs x tensor/boost clock x FLOP/clk/SM
  std::optional<double> at_max_clock;        // SMs x device max SM clock x FLOP/clk/SM
  std::optional<double> at_current_clock;
};

struct DevicePeaks {
  SpecMatch match = SpecMatch::kDerived;
  std::string spec_name;  // empty when derived
  std::string note;       // why a fallback was used
  std::string arch;
  std::optional<double> hbm_bandwidth;  // bytes/s, datasheet
  std::vector<PeakEntry> flops;
};

// The specs a person means by `query` (`--gpu`): its exact name or alias; else those whose name
// or an alias equals it ignoring case, spaces and punctuation ("h200-sxm-141gb"); else those
// whose name holds it so ("h200 sxm", "l40"). Several entries: ambiguous, for the caller to say.
std::vector<const GpuSpec*> specs_named(const SpecDb& db, const std::string& query);

// Find the spec for a device: name alias and SM count must both agree for an exact match.
const GpuSpec* find_spec(const SpecDb& db, const std::string& device_name, int sms,
                         SpecMatch* how = nullptr);
// Theoretical peak: SMs x clock x FLOP/clk/SM; nullopt when the type does not exist on the arch.
std::optional<double> clock_peak(const ArchSpec& arch, const std::string& dtype, int sms,
                                 double clock_mhz);
// Every peak we can state for the device, with the match clearly flagged.
DevicePeaks device_peaks(const SpecDb& db, const DeviceInfo& dev);
nlohmann::json to_json(const DevicePeaks& p);

}  // namespace goodput
