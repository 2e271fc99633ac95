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
  FlatIndex<bool> launched;
  const bool trim = step_names.size() >= 2;
  if (trim) {
    launched.reserve(t.runtime.size());
    for (const auto& r : t.runtime)
      if (ceil_us(r.ts) < ceil_us(last_step_start) && r.correlation >= 0)
        launched.add(r.correlation, true);
    launched.build();
  }
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
  for (const auto& g : t.gpu) {
    if (trim && !launched.find(g.correlation)) {
      ++out.gpu_events_dropped;
      continue;
    }
    ++out.gpu_events_used;
    add(g.name, g.ts, g.dur);
  }
  // HTA takes every event whose args name a stream for GPU work: CPU ops too (torch.compile's
  // Triton launchers record one), kept by its trimming when they start before the last step.
  for (const auto& op : t.ops) {
    if (op.stream == -1 || (trim && ceil_us(op.ts) >= ceil_us(last_step_start))) continue;
    ++out.cpu_ops_with_stream;
    add(op.name, op.ts, op.dur);
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
