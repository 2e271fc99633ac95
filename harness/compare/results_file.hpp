// Reading results documents (harness/core/results.hpp) for comparison and reports: validated,
// with every problem reported as file + field + cause, and merged across files.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/device_info.hpp"

namespace goodput::compare {

// One measured (or skipped) benchmark of a results document.
struct Measurement {
  std::string file;       // where it came from
  std::size_t index = 0;  // position in that file's results[]
  std::string name;
  std::string kind;             // "gemm", "memory", "collective", ...; "" when absent
  nlohmann::json params;        // object (empty when absent)
  std::string status;           // as written; "ok" when absent
  std::string reason;           // why it was not measured (from 'error' or 'reason'), if given
  std::vector<double> seconds;  // raw time samples, converted to seconds
  nlohmann::json rates;         // object: flop_per_s, bytes_per_s, busbw_bytes_per_s, ...
  nlohmann::json peaks;         // as written
  std::optional<DeviceInfo> device;
  int device_ordinal = 0;  // index into the file's devices[]
  bool measured() const { return !seconds.empty(); }
  // Identity used for matching: name, canonical parameters, device ordinal.
  std::string key() const;
  // "m=8192 n=8192 dtype=bf16": the parameters on one line, for tables.
  std::string params_text() const;
};

struct ResultsFile {
  std::string path;
  std::string schema_version;
  nlohmann::json doc;
  std::vector<DeviceInfo> devices;
  std::vector<Measurement> results;
};

// Validate a parsed document; `origin` names it in errors. Throws InputError.
ResultsFile parse_results(const nlohmann::json& doc, const std::string& origin);
// read_json_file + parse_results.
ResultsFile load_results(const std::string& path);
// Every measurement of several files; a key seen twice is an InputError naming both places.
std::vector<Measurement> merge_results(const std::vector<ResultsFile>& files);

// "NVIDIA H100 80GB HBM3" -> "nvidia-h100-80gb-hbm3": the folder of a SKU's baselines.
std::string sku_slug(const std::string& device_name);
// The *.json files of <dir>/<sku_slug(device_name)>/, sorted. InputError (listing the SKUs that do
// exist) when there is none, or when the name has no letters or digits.
std::vector<std::string> baseline_files_for(const std::string& dir, const std::string& device_name);

// The rate a result is best judged by, for tables and peaks: FLOP/s for compute, bytes/s otherwise.
struct Figure {
  std::string metric;  // "flop_per_s", "bytes_per_s", "busbw_bytes_per_s", "algbw_bytes_per_s"
  double value = 0;
};
std::optional<Figure> headline_figure(const Measurement& m);

}  // namespace goodput::compare
