// The one versioned results document every command writes (results/schema/). Each update
// rewrites the file through a temporary and a rename, so an interrupted run keeps every result
// that finished and a reader never sees a half-written file.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/stats.hpp"

namespace goodput {

inline constexpr const char* kResultsSchema = "goodput.results";
inline constexpr const char* kResultsSchemaVersion =
    "1.5.0";  // 1.1: collectives `nccl`, `analysis` counters, annotated trace; 1.2: analysis
              // steps `host` and `profiler_overhead_ms`, ranks `profiler_overhead`; 1.3:
              // analysis ranks' `steady_state.breakdown_pct`, `slowest_rank_counts`; 1.4:
              // analysis `timing`; 1.5: analysis stragglers' `waited_for_*`, ranks'
              // `missing_steps` and `rank_source`, `inputs_left_out`, model `model_parallel`

// meta block: tool version, git sha/dirty, argv (redacted: redact_argv), times, host,
// allow-listed environment.
nlohmann::json make_meta(const std::string& command, const std::vector<std::string>& argv);
nlohmann::json host_info();
std::string iso8601_now();
nlohmann::json to_json(const Stats& s);

class ResultsWriter {
 public:
  // An empty path keeps the document in memory only.
  ResultsWriter(std::string path, const std::string& command, const std::vector<std::string>& argv);
  void set(const std::string& key, nlohmann::json value);  // devices, regime, peak_profile, ...
  // set() and finish() with one write: a command's final section.
  void finish_with(const std::string& key, nlohmann::json value, const std::string& status);
  void add_result(nlohmann::json result);  // appends and writes
  // status: "complete", "interrupted", "failed"; stamps end_time and writes.
  void finish(const std::string& status, const std::string& error = "");
  const nlohmann::json& document() const { return doc_; }
  const std::string& path() const { return path_; }
  void write() const;

 private:
  std::string path_;
  nlohmann::json doc_;
};

// Write JSON atomically (temporary file in the same folder, then rename). RuntimeFailure on I/O
// error.
void write_json_atomic(const std::string& path, const nlohmann::json& doc);
// Read and parse a JSON file; InputError with file and byte position on malformed input.
nlohmann::json read_json_file(const std::string& path);

}  // namespace goodput
