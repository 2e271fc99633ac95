#include "profiler/analyze/peaks.hpp"

#include <algorithm>
#include <cctype>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::analyze {
namespace {

std::optional<double> rate_of(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_object()) return std::nullopt;
  for (const char* k : {"reachable", "flops_per_s", "value", "best"}) {
    if (!v.contains(k)) continue;
    if (auto r = rate_of(v[k])) return r;
  }
  return std::nullopt;
}

}  // namespace

std::string canonical_dtype(const std::string& dtype) {
  std::string d = dtype;
  std::transform(d.begin(), d.end(), d.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (d.rfind("fp8", 0) == 0 || d == "e4m3" || d == "e5m2") return "fp8";
  if (d.rfind("fp4", 0) == 0 || d == "nvfp4" || d == "mxfp4") return "fp4";
  if (d == "float" || d == "f32" || d == "float32") return "fp32";
  if (d == "half" || d == "f16" || d == "float16") return "fp16";
  if (d == "bfloat16") return "bf16";
  if (d == "double" || d == "f64") return "fp64";
  return d;
}

std::optional<std::pair<double, std::string>> PeakSet::best(const std::string& dtype) const {
  for (const auto& [src, m] :
       {std::pair<const char*, const std::map<std::string, double>*>{"calibrated", &calibrated},
        {"datasheet", &datasheet},
        {"clock", &clock}}) {
    auto it = m->find(dtype);
    if (it != m->end() && it->second > 0) return std::make_pair(it->second, std::string(src));
  }
  return std::nullopt;
}

std::map<std::string, double> read_calibrated_peaks(const std::string& path) {
  const nlohmann::json doc = read_json_file(path);
  const nlohmann::json& pp =
      doc.is_object() && doc.contains("peak_profile") ? doc["peak_profile"] : doc;
  std::map<std::string, double> out;
  if (pp.is_object()) {
    for (const char* section : {"gemm", "flops"}) {
      if (!pp.contains(section) || !pp[section].is_object()) continue;
      for (const auto& [dt, v] : pp[section].items())
        if (auto r = rate_of(v); r && *r > 0) out[canonical_dtype(dt)] = *r;
    }
  }
  if (out.empty())
    throw InputError(path +
                     ": no per-dtype FLOP/s found (expected peak_profile.flops.<dtype>.reachable "
                     "or peak_profile.gemm.<dtype>.best.flops_per_s, as `goodput calibrate` "
                     "writes)");
  return out;
}

PeakSet resolve_peaks(const traceio::RankTrace& t, const std::string& gpu_override,
                      const std::string& calibrate_path, const SpecDb& db) {
  PeakSet p;
  DeviceInfo dev;
  if (!gpu_override.empty()) {
    // --gpu names a spec (its name or an alias, in any case and spacing, or a unique part of
    // one); take its SM count and architecture.
    const auto named = specs_named(db, gpu_override);
    auto list = [](const std::vector<const GpuSpec*>& specs) {
      std::string s;
      for (const auto* g : specs) s += (s.empty() ? "" : ", ") + g->name;
      return s;
    };
    if (named.size() > 1)
      throw InputError("--gpu \"" + gpu_override + "\" is ambiguous: " + list(named) +
                       " (give one of these names)");
    if (named.empty()) {
      std::vector<const GpuSpec*> all;
      for (const auto& g : db.gpus) all.push_back(&g);
      throw InputError("--gpu \"" + gpu_override + "\": not in the GPU spec table (" + list(all) +
                       ")");
    }
    const GpuSpec* hit = named.front();
    dev.name = hit->names.empty() ? hit->name : hit->names.front();
    dev.sms = hit->sms;
    const std::string a = hit->arch;  // "sm_90"
    if (a.size() >= 5) {
      dev.cc_major = a[3] - '0';
      dev.cc_minor = a[4] - '0';
      if (a.size() >= 6 && std::isdigit(static_cast<unsigned char>(a[5]))) {
        dev.cc_major = (a[3] - '0') * 10 + (a[4] - '0');
        dev.cc_minor = a[5] - '0';
      }
    }
  } else if (!t.devices.empty()) {
    const auto& d = t.devices.front();
    dev.name = d.name;
    dev.sms = d.sms;
    dev.cc_major = d.cc_major;
    dev.cc_minor = d.cc_minor;
  }
  p.device = dev.name;
  p.sms = dev.sms;
  if (dev.name.empty()) {
    p.spec_match = "none";
    p.note =
        "the trace does not name its GPU (no deviceProperties): give --gpu NAME for datasheet "
        "peaks, or --peak calibrate.json";
  } else {
    const DevicePeaks dp = device_peaks(db, dev);
    p.spec_match = to_string(dp.match);
    p.spec_name = dp.spec_name;
    p.note = dp.note;
    for (const auto& e : dp.flops) {
      if (e.datasheet) p.datasheet[e.dtype] = *e.datasheet;
      if (e.at_datasheet_clock) p.clock[e.dtype] = *e.at_datasheet_clock;
    }
    if (p.datasheet.empty() && p.clock.empty())
      p.note += (p.note.empty() ? "" : "; ") +
                std::string(
                    "the trace records no SM clock, so no clock-derived peak either: give "
                    "--gpu NAME or --peak calibrate.json");
  }
  if (!calibrate_path.empty()) {
    p.calibrated = read_calibrated_peaks(calibrate_path);
    p.calibrated_from = calibrate_path;
  }
  return p;
}

nlohmann::json to_json(const PeakSet& p) {
  return {{"device", p.device},
          {"sms", p.sms},
          {"spec_match", p.spec_match},
          {"spec_name", p.spec_name},
          {"note", p.note},
          {"unit", "flop/s"},
          {"datasheet", p.datasheet},
          {"clock_derived", p.clock},
          {"calibrated", p.calibrated},
          {"calibrated_from", p.calibrated_from}};
}

}  // namespace goodput::analyze
