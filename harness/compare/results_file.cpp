#include "harness/compare/results_file.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::compare {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw InputError(where + ": " + what);
}

// Results written by a tool that reads 1.x: later minor versions only add fields.
void check_schema(const json& doc, const std::string& origin, std::string& version) {
  if (!doc.is_object()) bad(origin, "not a goodput results document (top level is not an object)");
  if (!doc.contains("schema"))
    bad(origin, "not a goodput results document (field 'schema' is missing)");
  if (doc["schema"] != kResultsSchema)
    bad(origin, "field 'schema' is " + doc["schema"].dump() + ", expected \"" +
                    std::string(kResultsSchema) + "\"");
  if (!doc.contains("schema_version") || !doc["schema_version"].is_string())
    bad(origin, "field 'schema_version' is missing or not a string");
  version = doc["schema_version"].get<std::string>();
  int major = -1;
  try {
    std::size_t used = 0;
    major = std::stoi(version, &used);
    if (used == 0 || (used < version.size() && version[used] != '.')) major = -1;
  } catch (const std::exception&) {
    major = -1;
  }
  if (major < 0)
    bad(origin, "field 'schema_version' is \"" + version + "\", not MAJOR.MINOR.PATCH");
  if (major == 0)
    bad(origin, "schema_version " + version +
                    " predates the first released results schema (1.0.0) and cannot be migrated; "
                    "re-run the benchmark with this goodput");
  if (major > 1)
    bad(origin, "schema_version " + version +
                    " is not supported: this goodput reads 1.x (it writes " +
                    kResultsSchemaVersion + "); use a newer goodput");
}

bool status_is_ok(const std::string& s) {
  return s == "ok" || s == "complete" || s == "completed" || s == "passed" || s == "success";
}

double unit_scale(const std::string& unit, const std::string& where) {
  if (unit == "s") return 1.0;
  if (unit == "ms") return 1e-3;
  if (unit == "us") return 1e-6;
  if (unit == "ns") return 1e-9;
  bad(where, "unit \"" + unit + "\" is not a time unit (s, ms, us, ns)");
}

std::vector<double> read_values(const json& values, double scale, const std::string& where) {
  std::vector<double> out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string field = where + "[" + std::to_string(i) + "]";
    const auto& v = values[i];
    if (v.is_null()) bad(field, "is null (a NaN or infinite time when it was written)");
    if (!v.is_number()) bad(field, "is " + v.dump() + ", not a number");
    const double t = v.get<double>();
    if (!std::isfinite(t)) bad(field, "is not finite");
    if (t < 0) bad(field, "negative time " + v.dump());
    if (t == 0) bad(field, "zero time (a timer that did not run)");
    out.push_back(t * scale);
  }
  return out;
}

// Raw samples as {"unit": "s", "values": [...]}, or a plain array of seconds ("samples" or
// "samples_s"). Empty when the result has none.
std::vector<double> read_samples(const json& r, const std::string& where) {
  if (r.contains("samples") && r["samples"].is_object()) {
    const auto& samples = r["samples"];
    const double scale = unit_scale(samples.contains("unit") && samples["unit"].is_string()
                                        ? samples["unit"].get<std::string>()
                                        : std::string("s"),
                                    where + ".samples.unit");
    if (!samples.contains("values") || !samples["values"].is_array())
      bad(where, "'samples.values' is missing or not an array");
    return read_values(samples["values"], scale, where + ".samples.values");
  }
  for (const char* k : {"samples", "samples_s"}) {
    if (!r.contains(k) || r[k].is_null()) continue;
    if (!r[k].is_array()) bad(where, "'" + std::string(k) + "' is neither an array nor an object");
    return read_values(r[k], 1.0, where + "." + k);
  }
  return {};
}

// Derived rates live in "rates" (or "derived"); both spellings of FLOP/s are accepted.
json read_rates(const json& r) {
  json out = json::object();
  for (const char* section : {"derived", "rates"}) {
    if (!r.contains(section) || !r[section].is_object()) continue;
    for (const auto& [k, v] : r[section].items()) {
      if (!v.is_number()) continue;
      out[k == "flops_per_s" ? std::string("flop_per_s") : k] = v;
    }
  }
  return out;
}

// A non-negative integer an int holds; parsed files write it unsigned, programs may write it
// signed.
std::optional<int> device_index(const json& v) {
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0))
    return std::nullopt;
  const auto u = v.get<std::uint64_t>();
  if (u > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
  return static_cast<int>(u);
}

Measurement read_result(const json& r, std::size_t index, const ResultsFile& file) {
  const std::string where = file.path + ": results[" + std::to_string(index) + "]";
  if (!r.is_object()) bad(where, "is not an object");
  Measurement m;
  m.file = file.path;
  m.index = index;
  if (!r.contains("name") || !r["name"].is_string() || r["name"].get<std::string>().empty())
    bad(where, "field 'name' is missing or not a non-empty string");
  m.name = r["name"].get<std::string>();
  const std::string named = where + " (" + m.name + ")";
  if (r.contains("kind") && r["kind"].is_string()) m.kind = r["kind"].get<std::string>();
  m.params = r.value("params", json::object());
  if (!m.params.is_object()) bad(named, "field 'params' is not an object");
  m.status =
      r.contains("status") && r["status"].is_string() ? r["status"].get<std::string>() : "ok";
  for (const char* k : {"error", "reason", "skip_reason"})
    if (m.reason.empty() && r.contains(k) && r[k].is_string()) m.reason = r[k].get<std::string>();
  m.rates = read_rates(r);
  m.peaks = r.value("peaks", json());
  if (r.contains("device")) {
    const auto ordinal = device_index(r["device"]);
    if (!ordinal) bad(named, "field 'device' is " + r["device"].dump() + ", not a device index");
    m.device_ordinal = *ordinal;
    if (!file.devices.empty() && static_cast<std::size_t>(m.device_ordinal) >= file.devices.size())
      bad(named, "field 'device' is " + std::to_string(m.device_ordinal) + " but the file lists " +
                     std::to_string(file.devices.size()) + " device(s)");
  }
  if (static_cast<std::size_t>(m.device_ordinal) < file.devices.size())
    m.device = file.devices[static_cast<std::size_t>(m.device_ordinal)];
  if (status_is_ok(m.status)) {
    m.seconds = read_samples(r, named);
    if (m.seconds.empty()) bad(named, "no samples ('samples.values' is missing or empty)");
  }
  // A failed or skipped benchmark keeps no timing; it is listed, not compared.
  return m;
}

std::string plain(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::string Measurement::key() const {
  return name + '\x1f' + params.dump() + '\x1f' + std::to_string(device_ordinal);
}

std::string Measurement::params_text() const {
  std::string out;
  for (const auto& [k, v] : params.items()) {
    if (!out.empty()) out += ' ';
    out += k + '=' + plain(v);
  }
  return out;
}

ResultsFile parse_results(const json& doc, const std::string& origin) {
  ResultsFile f;
  f.path = origin;
  check_schema(doc, origin, f.schema_version);
  f.doc = doc;
  if (doc.contains("devices")) {
    if (!doc["devices"].is_array()) bad(origin, "field 'devices' is not an array");
    for (std::size_t i = 0; i < doc["devices"].size(); ++i) {
      const auto& d = doc["devices"][i];
      const std::string where = origin + ": devices[" + std::to_string(i) + "]";
      if (!d.is_object()) bad(where, "is not an object");
      try {
        f.devices.push_back(device_from_json(d));
      } catch (const std::exception& e) {
        bad(where, std::string("unreadable device description: ") + e.what());
      }
    }
  }
  if (!doc.contains("results") || !doc["results"].is_array())
    bad(origin, "field 'results' is missing or not an array");
  if (doc["results"].empty()) bad(origin, "field 'results' is empty: nothing to compare");
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < doc["results"].size(); ++i) {
    Measurement m = read_result(doc["results"][i], i, f);
    const auto [it, fresh] = seen.emplace(m.key(), i);
    if (!fresh)
      bad(origin + ": results[" + std::to_string(i) + "]",
          "duplicate of results[" + std::to_string(it->second) + "] (name '" + m.name +
              "', same parameters and device)");
    f.results.push_back(std::move(m));
  }
  return f;
}

ResultsFile load_results(const std::string& path) {
  return parse_results(read_json_file(path), path);
}

std::vector<Measurement> merge_results(const std::vector<ResultsFile>& files) {
  std::vector<Measurement> all;
  std::map<std::string, const Measurement*> seen;
  for (const auto& f : files)
    for (const auto& m : f.results) all.push_back(m);
  for (const auto& m : all) {
    const auto [it, fresh] = seen.emplace(m.key(), &m);
    if (!fresh)
      throw InputError(m.file + ": results[" + std::to_string(m.index) + "] ('" + m.name +
                       "') duplicates " + it->second->file + ": results[" +
                       std::to_string(it->second->index) + "] (same name, parameters and device)");
  }
  return all;
}

std::string sku_slug(const std::string& device_name) {
  std::string out;
  for (unsigned char c : device_name) {
    if (std::isalnum(c))
      out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::vector<std::string> baseline_files_for(const std::string& dir,
                                            const std::string& device_name) {
  const std::string sku = sku_slug(device_name);
  // An empty SKU would make DIR itself the baseline folder.
  if (sku.empty())
    throw InputError(dir + ": device name '" + device_name +
                     "' has no letters or digits, so it names no SKU folder");
  const fs::path folder = fs::path(dir) / sku;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    std::vector<std::string> have;
    if (fs::is_directory(dir, ec))
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory()) have.push_back(e.path().filename().string());
    std::sort(have.begin(), have.end());
    std::string list;
    for (const auto& h : have) list += (list.empty() ? "" : ", ") + h;
    throw InputError(folder.string() + ": no baseline for device '" + device_name + "' (SKU '" +
                     sku + "'); baselines exist for: " + (list.empty() ? "none" : list));
  }
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(folder.string() + ": no *.json baseline files");
  return files;
}

std::optional<Figure> headline_figure(const Measurement& m) {
  const bool collective =
      m.kind.find("collective") != std::string::npos || m.kind.find("nccl") != std::string::npos;
  std::vector<const char*> order = {"flop_per_s", "bytes_per_s"};
  // `goodput collectives` writes "busbw" and "algbw"; one rank has a bus bandwidth of 0.
  if (collective)
    order = {"busbw_bytes_per_s", "busbw", "algbw_bytes_per_s", "algbw", "bytes_per_s"};
  if (m.kind == "memory") order = {"bytes_per_s"};
  for (const std::string k : order) {
    if (m.rates.contains(k) && m.rates[k].is_number()) {
      const double v = m.rates[k].get<double>();
      if (std::isfinite(v) && v > 0)
        return Figure{k == "busbw" || k == "algbw" ? k + "_bytes_per_s" : k, v};
    }
  }
  return std::nullopt;
}

}  // namespace goodput::compare
