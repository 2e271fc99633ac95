#include "profiler/trace_format/trace_meta.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>

#include "harness/core/env.hpp"
#include "harness/core/results.hpp"
#include "harness/core/version.hpp"
#include "profiler/trace_format/trace_writer.hpp"

namespace goodput::trace {

std::vector<std::string> own_argv() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> argv;
  std::string cur;
  for (char c : all) {
    if (c == '\0') {
      argv.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) argv.push_back(cur);
  return redact_argv(argv);
}

nlohmann::json base_meta(const RankInfo& rank, const std::vector<std::string>& argv) {
  return {{"schema", kTraceSchema},
          {"schema_version", kTraceSchemaVersion},
          {"tool_version", tool_version()},
          {"git_sha", git_sha()},
          {"process",
           {{"pid", static_cast<long>(getpid())},
            {"ppid", static_cast<long>(getppid())},
            {"argv", redact_argv(argv)}}},
          {"rank", to_json(rank)},
          {"host", host_info()},
          {"environment", recorded_environment()},
          {"clock", {{"source", "CLOCK_REALTIME"}, {"ts_unit", "us after baseTimeNanoseconds"}}}};
}

nlohmann::json empty_trace(const std::string& status, const std::string& reason,
                           const RankInfo& rank, const std::vector<std::string>& argv) {
  auto meta = base_meta(rank, argv);
  meta["status"] = status;
  meta["status_reason"] = reason;
  meta["records"] = nlohmann::json::object();
  meta["dropped_records"] = 0;
  return {{"schemaVersion", 1},
          {"displayTimeUnit", "ms"},
          {"baseTimeNanoseconds", 0},
          {"traceEvents", nlohmann::json::array()},
          {"deviceProperties", nlohmann::json::array()},
          {"goodput", std::move(meta)}};
}

}  // namespace goodput::trace
