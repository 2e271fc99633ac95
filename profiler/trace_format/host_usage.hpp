// What the host did during each step, so a trace can tell how the program's CPU time, the
// tracer's own CPU time, page faults, preemption and (in a virtual machine) stolen time moved
// together: the evidence for why a traced step got slower.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace goodput::trace {

// clock_gettime(id) in nanoseconds (CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time).
std::uint64_t clock_ns(clockid_t id);

struct HostUsage {
  std::uint64_t t_ns = 0;            // CLOCK_REALTIME
  std::uint64_t process_cpu_ns = 0;  // every thread of the process
  std::uint64_t minor_faults = 0;    // getrusage(RUSAGE_SELF)
  std::uint64_t involuntary_switches = 0;
  std::optional<std::uint64_t> steal_ns;  // all CPUs, from /proc/stat; absent when unreadable
};

// The process's usage now (a /proc/stat read: tens of microseconds; called at step edges only).
HostUsage sample_host_usage();

// Stolen time of all CPUs in /proc/stat text (the "cpu" line's 8th value), in clock ticks.
std::optional<std::uint64_t> proc_stat_steal_ticks(std::string_view proc_stat);

// One step's usage: wall, process CPU, the tracer thread's CPU (tracer_cpu_ns over the step),
// the program's CPU (the difference), faults, involuntary switches, stolen time; milliseconds.
nlohmann::json step_usage_json(const HostUsage& begin, const HostUsage& end,
                               std::uint64_t tracer_cpu_ns);

}  // namespace goodput::trace
