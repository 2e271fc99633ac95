#include "harness/core/gpu_spec.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <simdjson.h>

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

// The spec file is read by every `goodput analyze`, beside the trace: simdjson's DOM makes that
// a few microseconds (nlohmann's took a quarter millisecond of a core the read could use).
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void wrong_type(const std::string& where, const std::string& key, const char* want) {
  throw InputError(where + ": field '" + key + "' has the wrong type (expected " + want + ")");
}

// A member that must be there.
element field(object o, const char* key, const std::string& where) {
  element v;
  if (o[key].get(v)) throw InputError(where + ": missing field '" + key + "'");
  return v;
}

object object_of(element v, const std::string& where, const std::string& key) {
  object o;
  if (v.get(o)) wrong_type(where, key, "an object");
  return o;
}

std::string string_of(element v, const std::string& where, const std::string& key) {
  std::string_view t;
  if (v.get(t)) wrong_type(where, key, "a string");
  return std::string(t);
}

double number_of(element v, const std::string& where, const std::string& key) {
  double d = 0;
  if (v.get(d)) wrong_type(where, key, "a number");
  return d;
}

int int_of(element v, const std::string& where, const std::string& key) {
  std::int64_t i = 0;
  if (v.get(i) || i < INT32_MIN || i > INT32_MAX) wrong_type(where, key, "an integer");
  return static_cast<int>(i);
}

std::map<std::string, double> numbers_by_name(element v, const std::string& where,
                                              const std::string& key) {
  std::map<std::string, double> out;
  for (auto [k, x] : object_of(v, where, key)) {
    double d = 0;
    if (x.get(d)) wrong_type(where, key + "." + std::string(k), "a number");
    out[std::string(k)] = d;  // a repeated key: the last, as before
  }
  return out;
}

std::vector<std::string> strings_of(element v, const std::string& where, const std::string& key) {
  array a;
  if (v.get(a)) wrong_type(where, key, "an array of strings");
  std::vector<std::string> out;
  for (element x : a) out.push_back(string_of(x, where, key));
  return out;
}

// An optional number: `fallback` when absent.
double number_or(object o, const char* key, double fallback, const std::string& where) {
  element v;
  return o[key].get(v) ? fallback : number_of(v, where, key);
}

SpecDb spec_db_of(element root, const std::string& origin) {
  SpecDb db;
  object top;
  if (root.get(top)) throw InputError(origin + ": top level must be an object");
  object archs;
  if (field(top, "architectures", origin).get(archs))
    throw InputError(origin + ": architectures must be an object");
  for (auto [key, a] : archs) {
    const std::string where = origin + ": architectures." + std::string(key);
    const object ao = object_of(a, origin + ": architectures", std::string(key));
    ArchSpec arch;
    arch.key = std::string(key);
    arch.family = string_of(field(ao, "family", where), where, "family");
    arch.flop_per_clk_per_sm =
        numbers_by_name(field(ao, "flop_per_clk_per_sm", where), where, "flop_per_clk_per_sm");
    db.archs.emplace(arch.key, std::move(arch));
  }
  array gpus;
  if (field(top, "gpus", origin).get(gpus)) throw InputError(origin + ": gpus must be an array");
  std::size_t i = 0;
  for (element ge : gpus) {
    const std::string where = origin + ": gpus[" + std::to_string(i++) + "]";
    object g;
    if (ge.get(g)) throw InputError(where + " must be an object");
    GpuSpec s;
    s.name = string_of(field(g, "name", where), where, "name");
    s.names = strings_of(field(g, "device_names", where), where, "device_names");
    s.arch = string_of(field(g, "arch", where), where, "arch");
    if (!db.archs.count(s.arch)) throw InputError(where + ": unknown arch '" + s.arch + "'");
    s.sms = int_of(field(g, "sms", where), where, "sms");
    s.boost_clock_mhz = number_of(field(g, "boost_clock_mhz", where), where, "boost_clock_mhz");
    s.tensor_clock_mhz = number_or(g, "tensor_clock_mhz", s.boost_clock_mhz, where);
    s.memory_gb = number_of(field(g, "memory_gb", where), where, "memory_gb");
    s.hbm_bandwidth_gbps =
        number_of(field(g, "memory_bandwidth_gbps", where), where, "memory_bandwidth_gbps");
    s.l2_mb = number_or(g, "l2_mb", 0.0, where);
    s.datasheet_tflops =
        numbers_by_name(field(g, "datasheet_tflops", where), where, "datasheet_tflops");
    if (element src; !g["source"].get(src)) s.source = string_of(src, where, "source");
    for (const auto& [dt, v] : s.datasheet_tflops) {
      if (std::find(peak_dtypes().begin(), peak_dtypes().end(), dt) == peak_dtypes().end())
        throw InputError(where + ": unknown data type '" + dt + "' in datasheet_tflops");
      if (!(v > 0)) throw InputError(where + ": datasheet_tflops." + dt + " must be positive");
    }
    db.gpus.push_back(std::move(s));
  }
  return db;
}

SpecDb spec_db_of_text(const std::string& text, const std::string& origin) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(simdjson::padded_string(text)).get(root)) {
    // simdjson names no position: nlohmann's parser says where the text goes wrong.
    try {
      const auto j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(origin + ": malformed JSON at byte " + std::to_string(e.byte) + ": " +
                       e.what());
    }
    throw InputError(origin + ": malformed JSON");
  }
  return spec_db_of(root, origin);
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
  return spec_db_of_text(j.dump(), origin);
}

SpecDb load_spec_db(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open GPU spec file");
  std::ostringstream text;
  text << in.rdbuf();
  return spec_db_of_text(text.str(), path);
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
