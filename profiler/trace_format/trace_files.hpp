// Finding and summarising the traces one profiled run wrote (one file per process).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::trace {

// Files named for `base` by trace_path_for (base itself, <stem>.rank<N>.json, <stem>.pid<N>.json)
// modified at or after `since`, sorted by name.
std::vector<std::string> find_trace_files(const std::string& base,
                                          std::filesystem::file_time_type since);

// The "goodput" metadata object of a trace file. The writer puts it on its own line near the end,
// so only the tail is read; other Chrome-trace files are parsed whole. InputError when the file
// is missing, malformed or has no goodput object.
nlohmann::json read_trace_meta(const std::string& path);

}  // namespace goodput::trace
