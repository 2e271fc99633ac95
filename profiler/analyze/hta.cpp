#include "profiler/analyze/hta.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "harness/core/error.hpp"
#include "profiler/analyze/classify.hpp"
#include "profiler/analyze/flat_index.hpp"
#include "profiler/analyze/intervals.hpp"

namespace goodput::analyze {
namespace {
// HTA reads ts and dur as float64 microseconds, then rounds each event's start up and its end
// (ts + dur, added in float64) down to whole microseconds. At epoch timestamps (1.7e15 us) a
// double holds quarter microseconds, so what HTA rounds is the double nearest the decimal text:
// "...029.125" is 29.0 or 29.25 there, not the text's value. The same double, from exact integer
// ns: the long double quotient is exact enough that converting it rounds as parsing the text
// (three decimals) would.
double hta_us(std::int64_t ns) {
  return static_cast<double>(static_cast<long double>(ns) / 1000.0L);
}
std::int64_t ceil_us(std::int64_t ns) {
  return static_cast<std::int64_t>(std::ceil(hta_us(ns)));
}
}  // namespace

HtaBreakdown hta_breakdown(const traceio::RankTrace& t) {
  HtaBreakdown out;
  out.rank = t.rank();

  // ProfilerStep trimming: only when the trace names at least two distinct steps.
  std::set<traceio::NameId> step_names;
  std::int64_t last_step_start = INT64_MIN;  // in ns
  for (const auto& op : t.ops) {
    if (t.names[op.name].find("ProfilerStep") == std::string::npos) continue;
    step_names.insert(op.name);
    last_step_start = std::max(last_step_start, op.ts);
  }
  // HTA's trimming: events it takes for GPU work (a stream and a correlation, or a device-wide
  // Event or Context Sync) stay when a CPU event before the last step's start has their
  // correlation; the other events stay when they start before it. -1, the correlation of every
  // op without one, is always among them (the first ProfilerStep itself).
  FlatIndex<bool> launched;
  const bool trim = step_names.size() >= 2;
  const std::int64_t last_us = trim ? ceil_us(last_step_start) : 0;
  if (trim) {
    launched.reserve(t.runtime.size() + 1);
    launched.add(-1, true);
    for (const auto& r : t.runtime)
      if (ceil_us(r.ts) < last_us) launched.add(r.correlation, true);
    launched.build();
  }
  auto kept = [&](bool gpu, std::int64_t correlation, std::int64_t ts) {
    return !trim || (gpu ? launched.find(correlation) != nullptr : ceil_us(ts) < last_us);
  };
  // Kernel names repeat: each name's HTA type found once.
  std::vector<std::int8_t> type_of(t.names.size(), -1);
  out.last_step_dropped = trim;

  std::vector<Interval> all, compute, comm;
  all.reserve(t.gpu.size());
  auto add = [&](traceio::NameId name, std::int64_t ts_ns, std::int64_t dur_ns) {
    // Whole microseconds inside the event, rounded as HTA rounds them; an event under a
    // microsecond that spans no whole one is empty here, where HTA keeps a negative duration
    // (which would make non-compute time below zero and overlap above 100 %).
    const double ts = hta_us(ts_ns);
    const auto start = static_cast<std::int64_t>(std::ceil(ts));
    const auto end = static_cast<std::int64_t>(std::floor(ts + hta_us(dur_ns)));
    const Interval iv{start, std::max(start, end)};
    all.push_back(iv);
    auto& type = type_of[name];
    if (type < 0) type = static_cast<std::int8_t>(hta_type(t.names[name]));
    switch (static_cast<HtaType>(type)) {
      case HtaType::kComputation:
        compute.push_back(iv);
        break;
      case HtaType::kCommunication:
        comm.push_back(iv);
        break;
      case HtaType::kMemory:
      case HtaType::kOther:
        break;
    }
  };
  // Its breakdown then counts every kept event whose args name a stream (not -1).
  for (const auto& g : t.gpu) {
    if (!kept(g.stream >= 0 && g.correlation >= 0, g.correlation, g.ts)) {
      ++out.gpu_events_dropped;
      continue;
    }
    if (g.stream == -1) continue;
    ++out.gpu_events_used;
    add(g.name, g.ts, g.dur);
  }
  // CPU ops too (torch.compile's Triton launchers record a stream) ...
  for (const auto& op : t.ops) {
    if (op.stream == -1 || !kept(false, -1, op.ts)) continue;
    ++out.cpu_ops_with_stream;
    add(op.name, op.ts, op.dur);
  }
  // ... and the host's waits on a stream (a Stream Sync is "other" time to it, neither compute
  // nor communication; a Stream Wait Event, whose name holds no "Sync", compute).
  for (const auto& e : t.syncs) {
    const std::string& n = t.names[e.name];
    const bool gpu =
        (e.stream >= 0 && e.correlation >= 0) || n == "Event Sync" || n == "Context Sync";
    if (e.stream == -1 || !kept(gpu, e.correlation, e.ts)) continue;
    ++out.syncs_with_stream;
    add(e.name, e.ts, e.dur);
  }
  if (all.empty())
    throw InputError(t.path + ": no GPU events (kernels, memcpy, memset) to analyse" +
                     (trim ? " before the last ProfilerStep" : ""));
  const auto u = union_of(std::move(all));
  const auto uc = union_of(std::move(compute));
  const auto um = union_of(std::move(comm));
  out.span_us = u.back().end - u.front().start;
  out.idle_us = out.span_us - total_length(u);
  out.compute_us = total_length(uc);
  out.non_compute_us = out.span_us - out.idle_us - out.compute_us;
  if (out.span_us > 0) {
    const double s = static_cast<double>(out.span_us);
    out.idle_pct = 100.0 * static_cast<double>(out.idle_us) / s;
    out.compute_pct = 100.0 * static_cast<double>(out.compute_us) / s;
    out.non_compute_pct = 100.0 * static_cast<double>(out.non_compute_us) / s;
  }
  const auto comm_len = total_length(um);
  if (comm_len > 0)
    out.comm_comp_overlap_pct =
        100.0 * static_cast<double>(intersection_length(um, uc)) / static_cast<double>(comm_len);
  return out;
}

}  // namespace goodput::analyze
