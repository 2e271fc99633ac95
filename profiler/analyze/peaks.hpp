// The peak FLOP/s that MFU is measured against, per data type, from up to three sources:
// calibrated (a `goodput calibrate` results file), datasheet and clock-derived (GPU spec table,
// for the GPU the trace names or --gpu). A trace without GPU identity and no --gpu has none.
#pragma once
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/core/gpu_spec.hpp"
#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

struct PeakSet {
  std::string device;  // as the trace (or --gpu) names it
  int sms = 0;
  std::string spec_match;  // exact / name_only / derived / none
  std::string spec_name;
  std::string note;                                            // why some source is missing
  std::map<std::string, double> datasheet, clock, calibrated;  // dtype -> FLOP/s
  std::string calibrated_from;
  bool any() const { return !datasheet.empty() || !clock.empty() || !calibrated.empty(); }
  // Preferred peak for a dtype: calibrated, else datasheet, else clock-derived.
  std::optional<std::pair<double, std::string>> best(const std::string& dtype) const;
};

// Per-dtype best reachable FLOP/s from a calibrate results file. Reads, defensively, either
// peak_profile.flops.<dtype>.reachable (a number, or an object with "flops_per_s"/"value") or
// peak_profile.gemm.<dtype>.best.flops_per_s; the file may also be the peak_profile object itself.
// InputError naming the file when no figure is found.
std::map<std::string, double> read_calibrated_peaks(const std::string& path);
// Calibrate's dtype names ("fp8_e4m3", "BF16", "f32") -> peak dtype names ("fp8", "bf16", "fp32").
std::string canonical_dtype(const std::string& dtype);

PeakSet resolve_peaks(const traceio::RankTrace& t, const std::string& gpu_override,
                      const std::string& calibrate_path, const SpecDb& db);
nlohmann::json to_json(const PeakSet& p);

}  // namespace goodput::analyze
