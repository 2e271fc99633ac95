#include "profiler/trace_format/host_usage.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <ctime>

namespace goodput::trace {
namespace {

double ms(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

}  // namespace

std::uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::optional<std::uint64_t> proc_stat_steal_ticks(std::string_view text) {
  if (text.substr(0, 4) != "cpu ") return std::nullopt;
  const auto eol = text.find('\n');
  std::string_view line = text.substr(4, eol == std::string_view::npos ? text.size() - 4 : eol - 4);
  std::uint64_t value = 0;
  for (int field = 1; field <= 8; ++field) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    line.remove_prefix(start);
    const auto r = std::from_chars(line.data(), line.data() + line.size(), value);
    if (r.ec != std::errc()) return std::nullopt;
    line.remove_prefix(static_cast<std::size_t>(r.ptr - line.data()));
  }
  return value;  // user nice system idle iowait irq softirq steal: the 8th
}

HostUsage sample_host_usage() {
  HostUsage u;
  u.t_ns = clock_ns(CLOCK_REALTIME);
  u.process_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  rusage r{};
  if (getrusage(RUSAGE_SELF, &r) == 0) {
    u.minor_faults = static_cast<std::uint64_t>(r.ru_minflt);
    u.involuntary_switches = static_cast<std::uint64_t>(r.ru_nivcsw);
  }
  if (std::FILE* f = std::fopen("/proc/stat", "r")) {
    char buf[512];
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    static const long tick = sysconf(_SC_CLK_TCK);
    if (const auto ticks = proc_stat_steal_ticks(std::string_view(buf, n)); ticks && tick > 0)
      u.steal_ns = *ticks * (1'000'000'000u / static_cast<std::uint64_t>(tick));
  }
  return u;
}

nlohmann::json step_usage_json(const HostUsage& begin, const HostUsage& end,
                               std::uint64_t tracer_cpu_ns) {
  const std::uint64_t cpu = minus(end.process_cpu_ns, begin.process_cpu_ns);
  nlohmann::json j = {
      {"wall_ms", ms(minus(end.t_ns, begin.t_ns))},
      {"process_cpu_ms", ms(cpu)},
      {"tracer_cpu_ms", ms(tracer_cpu_ns)},
      {"program_cpu_ms", ms(minus(cpu, tracer_cpu_ns))},
      {"minor_faults", minus(end.minor_faults, begin.minor_faults)},
      {"involuntary_switches", minus(end.involuntary_switches, begin.involuntary_switches)}};
  j["steal_ms"] = begin.steal_ns && end.steal_ns
                      ? nlohmann::json(ms(minus(*end.steal_ns, *begin.steal_ns)))
                      : nlohmann::json(nullptr);
  return j;
}

}  // namespace goodput::trace
