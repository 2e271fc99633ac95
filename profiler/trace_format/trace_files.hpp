// Finding and summarising the traces one profiled run wrote (one file per process), and the
// partial traces of processes that died before finishing theirs.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::trace {

// Files named for `base` by trace_path_for (base itself, <stem>.rank<N>.json, <stem>.pid<N>.json)
// modified at or after `since`, sorted by name.
std::vector<std::string> find_trace_files(const std::string& base,
                                          std::filesystem::file_time_type since);

// A trace still being written, or left behind by a process that never finished it:
// "<final_path>.partial.<pid>" (TraceWriter::open).
struct PartialTrace {
  std::string path;         // the partial file
  std::string final_path;   // the name the writer renames it to when it finishes
  long pid = 0;             // the writer
  std::optional<int> rank;  // N of a <stem>.rank<N> final name
};
// Partial files of the traces find_trace_files looks for, modified at or after `since`, sorted by
// name.
std::vector<PartialTrace> find_partial_traces(const std::string& base,
                                              std::filesystem::file_time_type since);

// The "goodput" metadata object of a trace file. The writer puts it on its own line near the end,
// so only the tail is read; other Chrome-trace files are parsed whole. InputError when the file
// is missing, malformed or has no goodput object.
nlohmann::json read_trace_meta(const std::string& path);

}  // namespace goodput::trace
