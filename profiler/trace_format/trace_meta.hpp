// The "goodput" metadata object every trace carries: who wrote it, for which process and rank,
// what was recorded and what was lost. Nothing here reads more of the environment than the
// results' allow-list, and command lines are recorded with credential-looking values redacted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/env.hpp"
#include "profiler/trace_format/tracer_env.hpp"

namespace goodput::trace {

// Trace status values (goodput.status).
inline constexpr const char* kStatusComplete = "complete";
inline constexpr const char* kStatusInterrupted = "interrupted";  // SIGINT/SIGTERM
inline constexpr const char* kStatusUntraced = "untraced";  // CUPTI refused; see untraced_reason
inline constexpr const char* kStatusNoCuda = "no_cuda_activity";  // the program never used CUDA
// The writer died before finishing: `goodput profile` salvaged its partial file (salvage.hpp).
inline constexpr const char* kStatusIncomplete = "incomplete";

// This process's command line (/proc/self/cmdline), redacted (redact_argv, harness/core/env.hpp).
std::vector<std::string> own_argv();

// The metadata skeleton: schema, tool version, process, rank, allow-listed environment, host.
nlohmann::json base_meta(const RankInfo& rank, const std::vector<std::string>& argv);

// A complete, empty trace document saying why it is empty (status and reason).
nlohmann::json empty_trace(const std::string& status, const std::string& reason,
                           const RankInfo& rank, const std::vector<std::string>& argv);

}  // namespace goodput::trace
