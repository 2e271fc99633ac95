#include "harness/core/gpu_spec.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "harness/core/data_dir.hpp"
#include "harness/core/error.hpp"

namespace goodput {
namespace {

// Types whose datasheet peak is quoted at the tensor-core clock (lower than boost on Hopper).
bool uses_tensor_clock(const std::string& dtype) {
  return dtype == "tf32" || dtype == "fp16" || dtype == "bf16" || dtype == "fp8" ||
         dtype == "fp4" || dtype == "int8";
}

std::string normalize(std::string s) {
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
  return out;
}

// A member that must be there, by reference (a subtree is not copied).
const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) throw InputError(where + ": missing field '" + key + "'");
  return *it;
}

template <typename T>
T require(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw InputError(where + ": missing field '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": field '" + key + "' has the wrong type (" + e.what() + ")");
  }
}

}  // namespace

const std::vector<std::string>& peak_dtypes() {
  static const std::vector<std::string> k = {"fp64", "fp64_tensor", "fp32", "tf32", "fp16",
                                             "bf16", "fp8",         "fp4",  "int8"};
  return k;
}

const char* to_string(SpecMatch m) {
  switch (m) {
    case SpecMatch::kExact:
      return "exact";
    case SpecMatch::kNameOnly:
      return "name_only";
    case SpecMatch::kDerived:
      return "derived";
  }
  return "derived";
}

SpecDb parse_spec_db(const nlohmann::json& j, const std::string& origin) {
  SpecDb db;
  if (!j.is_object()) throw InputError(origin + ": top level must be an object");
  const auto& archs = member(j, "architectures", origin);
  if (!archs.is_object()) throw InputError(origin + ": architectures must be an object");
  for (const auto& [key, a] : archs.items()) {
    const std::string where = origin + ": architectures." + key;
    ArchSpec arch;
    arch.key = key;
    arch.family = require<std::string>(a, "family", where);
    arch.flop_per_clk_per_sm =
        require<std::map<std::string, double>>(a, "flop_per_clk_per_sm", where);
    db.archs.emplace(key, std::move(arch));
  }
  const auto& gpus = member(j, "gpus", origin);
  if (!gpus.is_array()) throw InputError(origin + ": gpus must be an array");
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const auto& g = gpus[i];
    const std::string where = origin + ": gpus[" + std::to_string(i) + "]";
    GpuSpec s;
    s.name = require<std::string>(g, "name", where);
    s.names = require<std::vector<std::string>>(g, "device_names", where);
    s.arch = require<std::string>(g, "arch", where);
    if (!db.archs.count(s.arch)) throw InputError(where + ": unknown arch '" + s.arch + "'");
    s.sms = require<int>(g, "sms", where);
    s.boost_clock_mhz = require<double>(g, "boost_clock_mhz", where);
    s.tensor_clock_mhz = g.value("tensor_clock_mhz", s.boost_clock_mhz);
    s.memory_gb = require<double>(g, "memory_gb", where);
    s.hbm_bandwidth_gbps = require<double>(g, "memory_bandwidth_gbps", where);
    s.l2_mb = g.value("l2_mb", 0.0);
    s.datasheet_tflops = require<std::map<std::string, double>>(g, "datasheet_tflops", where);
    s.source = g.value("source", "");
    for (const auto& [dt, v] : s.datasheet_tflops) {
      if (std::find(peak_dtypes().begin(), peak_dtypes().end(), dt) == peak_dtypes().end())
        throw InputError(where + ": unknown data type '" + dt + "' in datasheet_tflops");
      if (!(v > 0)) throw InputError(where + ": datasheet_tflops." + dt + " must be positive");
    }
    db.gpus.push_back(std::move(s));
  }
  return db;
}

SpecDb load_spec_db(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open GPU spec file");
  // Parsed from memory: nlohmann reads an istream a character at a time, several times slower,
  // and this file is read by every `goodput analyze`.
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.view());
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
  return parse_spec_db(j, path);
}

SpecDb load_default_spec_db() {
  return load_spec_db(data_path("gpu_specs.json"));
}

std::vector<const GpuSpec*> specs_named(const SpecDb& db, const std::string& query) {
  auto tier = [&](auto&& hit, bool aliases) {
    std::vector<const GpuSpec*> out;
    for (const auto& g : db.gpus)
      if (hit(g.name) || (aliases && std::any_of(g.names.begin(), g.names.end(), hit)))
        out.push_back(&g);
    return out;
  };
  if (auto exact = tier([&](const std::string& n) { return n == query; }, true); !exact.empty())
    return exact;
  const std::string want = normalize(query);
  if (want.empty()) return {};
  if (auto same = tier([&](const std::string& n) { return normalize(n) == want; }, true);
      !same.empty())
    return same;
  // A part of a spec's own name only: device aliases ("NVIDIA A100 80GB PCIe") would pick one
  // form of a card for a part that names them all.
  return tier([&](const std::string& n) { return normalize(n).find(want) != std::string::npos; },
              false);
}

const GpuSpec* find_spec(const SpecDb& db, const std::string& device_name, int sms,
                         SpecMatch* how) {
  const std::string want = normalize(device_name);
  const GpuSpec* name_only = nullptr;
  for (const auto& g : db.gpus) {
    const bool name_hit = std::any_of(g.names.begin(), g.names.end(),
                                      [&](const std::string& n) { return normalize(n) == want; });
    if (!name_hit) continue;
    if (g.sms == sms) {
      if (how) *how = SpecMatch::kExact;
      return &g;
    }
    if (!name_only) name_only = &g;
  }
  if (how) *how = name_only ? SpecMatch::kNameOnly : SpecMatch::kDerived;
  return nullptr;  // a name match with another SM count (MIG slice, cut-down part) is not trusted
}

std::optional<double> clock_peak(const ArchSpec& arch, const std::string& dtype, int sms,
                                 double clock_mhz) {
  const auto it = arch.flop_per_clk_per_sm.find(dtype);
  if (it == arch.flop_per_clk_per_sm.end() || sms <= 0 || clock_mhz <= 0) return std::nullopt;
  return static_cast<double>(sms) * clock_mhz * 1e6 * it->second;
}

DevicePeaks device_peaks(const SpecDb& db, const DeviceInfo& dev) {
  DevicePeaks p;
  p.arch = arch_key(dev.cc_major, dev.cc_minor);
  SpecMatch how = SpecMatch::kDerived;
  const GpuSpec* spec = find_spec(db, dev.name, dev.sms, &how);
  p.match = how;
  if (spec) {
    p.spec_name = spec->name;
    p.hbm_bandwidth = spec->hbm_bandwidth_gbps * 1e9;
  } else if (how == SpecMatch::kNameOnly) {
    p.note = "name matches a known GPU but the SM count (" + std::to_string(dev.sms) +
             ") does not; peaks derived from architecture x SMs x clock";
  } else {
    p.note = "unknown GPU '" + dev.name + "'; peaks derived from architecture x SMs x clock";
  }
  const auto arch_it = db.archs.find(spec ? spec->arch : p.arch);
  if (arch_it == db.archs.end()) {
    p.note += (p.note.empty() ? "" : "; ") + std::string("no FLOP/clk data for ") + p.arch;
  }
  for (const auto& dt : peak_dtypes()) {
    PeakEntry e;
    e.dtype = dt;
    if (spec) {
      const auto d = spec->datasheet_tflops.find(dt);
      if (d != spec->datasheet_tflops.end()) e.datasheet = d->second * 1e12;
    }
    if (arch_it != db.archs.end()) {
      const ArchSpec& arch = arch_it->second;
      if (spec) {
        const double clk = uses_tensor_clock(dt) ? spec->tensor_clock_mhz : spec->boost_clock_mhz;
        e.at_datasheet_clock = clock_peak(arch, dt, spec->sms, clk);
      }
      e.at_max_clock = clock_peak(arch, dt, dev.sms, dev.sm_clock_mhz_max);
      e.at_current_clock = clock_peak(arch, dt, dev.sms, dev.sm_clock_mhz_current);
    }
    if (e.datasheet || e.at_datasheet_clock || e.at_max_clock || e.at_current_clock)
      p.flops.push_back(e);
  }
  return p;
}

nlohmann::json to_json(const DevicePeaks& p) {
  auto opt = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  nlohmann::json flops = nlohmann::json::object();
  for (const auto& e : p.flops)
    flops[e.dtype] = {{"datasheet", opt(e.datasheet)},
                      {"at_datasheet_clock", opt(e.at_datasheet_clock)},
                      {"at_max_clock", opt(e.at_max_clock)},
                      {"at_current_clock", opt(e.at_current_clock)}};
  return {{"match", to_string(p.match)},
          {"spec_name", p.spec_name},
          {"note", p.note},
          {"arch", p.arch},
          {"unit", "flop/s"},
          {"flops", flops},
          {"hbm_bandwidth", opt(p.hbm_bandwidth)}};
}

}  // namespace goodput
