#include "profiler/trace_format/tracer_env.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "harness/core/error.hpp"
#include "profiler/trace_format/counter_ranges.hpp"

namespace goodput::trace {
namespace {

std::optional<long> parse_long(const std::string& s) {
  long v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || s.empty()) return std::nullopt;
  return v;
}

std::optional<int> first_int(const EnvLookup& env, std::initializer_list<const char*> names,
                             std::string* source = nullptr) {
  for (const char* n : names) {
    const auto v = env(n);
    if (!v) continue;
    const auto parsed = parse_long(*v);
    if (!parsed || *parsed < 0 || *parsed > 1'000'000'000) continue;
    if (source) *source = n;
    return static_cast<int>(*parsed);
  }
  return std::nullopt;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

RankInfo rank_from_env(const EnvLookup& env) {
  RankInfo r;
  r.rank = first_int(env, {"RANK", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID", "PMI_RANK", "PMIX_RANK"},
                     &r.source);
  r.local_rank = first_int(
      env, {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"});
  r.world_size = first_int(env, {"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS", "PMI_SIZE"});
  return r;
}

nlohmann::json to_json(const RankInfo& r) {
  auto opt = [](const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"rank", opt(r.rank)},
          {"local_rank", opt(r.local_rank)},
          {"world_size", opt(r.world_size)},
          {"source", r.source}};
}

StepSpan parse_steps(const std::string& text, const std::string& what) {
  const auto colon = text.find(':');
  if (colon == std::string::npos)
    throw InputError(what + " '" + text + "': expected A:B (first step, end step exclusive)");
  const auto a = parse_long(text.substr(0, colon));
  const auto b = parse_long(text.substr(colon + 1));
  if (!a || !b)
    throw InputError(what + " '" + text + "': A and B must be integers (A:B, e.g. 10:15)");
  if (*a < 0 || *b <= *a || *b > 1'000'000'000)
    throw InputError(what + " '" + text + "': need 0 <= A < B (B is exclusive)");
  return {static_cast<int>(*a), static_cast<int>(*b)};
}

Activities parse_activities(const std::string& text, const std::string& what) {
  Activities a{false, false, false, false, false, false, false};
  if (text == "none") return a;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string name = text.substr(pos, comma - pos);
    bool* flag = name == "kernel"     ? &a.kernel
                 : name == "memcpy"   ? &a.memcpy
                 : name == "memset"   ? &a.memset
                 : name == "runtime"  ? &a.runtime
                 : name == "driver"   ? &a.driver
                 : name == "sync"     ? &a.sync
                 : name == "overhead" ? &a.overhead
                                      : nullptr;
    if (!flag)
      throw InputError(what + " '" + text + "': unknown activity '" + name +
                       "'; the activities are " + kActivityNames + ", or none");
    *flag = true;
    pos = comma + 1;
  }
  return a;
}

nlohmann::json to_json(const Activities& a) {
  return {{"kernel", a.kernel},    {"memcpy", a.memcpy}, {"memset", a.memset},
          {"runtime", a.runtime},  {"driver", a.driver}, {"sync", a.sync},
          {"overhead", a.overhead}};
}

TracerConfig tracer_config_from_env(const EnvLookup& env) {
  TracerConfig c;
  if (auto v = env(kEnvOutput)) c.output = *v;
  if (auto v = env(kEnvSteps); v && !v->empty()) c.steps = parse_steps(*v, kEnvSteps);
  if (auto v = env(kEnvStepMarker); v && !v->empty()) c.step_marker = *v;
  if (auto v = env(kEnvCounters)) {
    try {
      if (!v->empty()) counter_set_metrics(*v);
    } catch (const InputError&) {
      throw InputError(std::string(kEnvCounters) + " '" + *v + "': the counter sets are " +
                       kCounterSets);
    }
    c.counters = *v;
  }
  if (auto v = env(kEnvBufferMb); v && !v->empty()) {
    const auto mb = parse_long(*v);
    if (!mb || *mb < 1 || *mb > 65536)
      throw InputError(std::string(kEnvBufferMb) + " '" + *v + "': expected 1..65536 (MiB)");
    c.buffer_cap_bytes = static_cast<std::size_t>(*mb) << 20;
    if (c.buffer_bytes > c.buffer_cap_bytes) c.buffer_bytes = c.buffer_cap_bytes;
  }
  if (auto v = env(kEnvLauncherPid)) {
    if (auto pid = parse_long(*v)) c.launcher_pid = *pid;
  }
  if (auto v = env(kEnvActivities); v && !v->empty())
    c.activities = parse_activities(*v, kEnvActivities);
  if (auto v = env(kEnvBufferZeroing); v && !v->empty()) {
    if (*v != "tracer" && *v != "cupti")
      throw InputError(std::string(kEnvBufferZeroing) + " '" + *v + "': expected tracer or cupti");
    c.tracer_zeroes_buffers = *v == "tracer";
  }
  if (auto v = env(kEnvRunId); v && !v->empty()) {
    if (!valid_run_id(*v))
      throw InputError(std::string(kEnvRunId) + " '" + *v +
                       "': expected 1 to 64 letters, digits, '-' or '_'");
    c.run_id = *v;
  }
  if (auto v = env(kEnvNoDriver)) c.no_driver = *v;
  return c;
}

bool valid_run_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
  });
}

namespace {

// "t.json" -> {"t", ".json"}; other names have no extension of ours.
std::pair<std::string, std::string> split_json(const std::string& path) {
  constexpr std::string_view kJson = ".json";
  if (path.size() > kJson.size() &&
      path.compare(path.size() - kJson.size(), kJson.size(), kJson) == 0)
    return {path.substr(0, path.size() - kJson.size()), std::string(kJson)};
  return {path, ""};
}

}  // namespace

std::string sibling_trace_path(const std::string& taken, long pid) {
  const auto [stem, ext] = split_json(taken);
  return stem + ".pid" + std::to_string(pid) + ext;
}

std::string trace_path_for(const std::string& base, const RankInfo& rank, long pid,
                           bool launched_directly) {
  const auto [stem, ext] = split_json(base);
  if (rank.rank) return stem + ".rank" + std::to_string(*rank.rank) + ext;
  if (launched_directly) return base;
  return stem + ".pid" + std::to_string(pid) + ext;
}

}  // namespace goodput::trace
