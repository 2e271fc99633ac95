// Finding and summarising the traces one profiled run wrote (one file per process), and the
// partial traces of processes that died before finishing theirs.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::trace {

// Which files belong to one run of `goodput profile`: those whose first line carries its id
// (trace_header). A file without an id (an empty or cut partial, or a tracer that writes none)
// counts when modified at or after `since`, the run's start, with no slack before it.
struct ThisRun {
  std::string id;
  std::filesystem::file_time_type since;
};

// Now, as file times record it: the kernel stamps files from a clock that lags the precise one
// by up to a tick, so a file written after this call is never older than its result.
std::filesystem::file_time_type file_time_now();

// The run id in the first line of a trace or partial trace; nullopt when it has none.
std::optional<std::string> trace_run_id(const std::string& path);

// Files of `run` named for `base` by trace_path_for (base itself, <stem>.rank<N>.json,
// <stem>.pid<N>.json) or sibling_trace_path (<stem>.rank<N>.pid<P>.json), sorted by name.
std::vector<std::string> find_trace_files(const std::string& base, const ThisRun& run);

// A trace still being written, or left behind by a process that never finished it:
// "<final_path>.partial.<pid>" (TraceWriter::open).
struct PartialTrace {
  std::string path;         // the partial file
  std::string final_path;   // the name the writer renames it to when it finishes
  long pid = 0;             // the writer
  std::optional<int> rank;  // N of a <stem>.rank<N> final name
};
// Partial files of `run` of the traces find_trace_files looks for, sorted by name.
std::vector<PartialTrace> find_partial_traces(const std::string& base, const ThisRun& run);

// The "goodput" metadata object of a trace file. The writer puts it on its own line near the end,
// so only the tail is read; other Chrome-trace files are parsed whole. InputError when the file
// is missing, malformed or has no goodput object.
nlohmann::json read_trace_meta(const std::string& path);

}  // namespace goodput::trace
