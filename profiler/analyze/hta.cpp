#include "profiler/analyze/hta.hpp"

#include <algorithm>
#include <set>

#include "harness/core/error.hpp"
#include "profiler/analyze/classify.hpp"
#include "profiler/analyze/flat_index.hpp"
#include "profiler/analyze/intervals.hpp"

namespace goodput::analyze {
namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return -floor_div(-a, b);
}
}  // namespace

HtaBreakdown hta_breakdown(const traceio::RankTrace& t) {
  HtaBreakdown out;
  out.rank = t.rank();

  // ProfilerStep trimming: only when the trace names at least two distinct steps.
  std::set<traceio::NameId> step_names;
  std::int64_t last_step_start = INT64_MIN;
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
      if (r.ts < last_step_start && r.correlation >= 0) launched.add(r.correlation, true);
    launched.build();
  }
  // Kernel names repeat: each name's HTA type found once.
  std::vector<std::int8_t> type_of(t.names.size(), -1);
  out.last_step_dropped = trim;

  std::vector<Interval> all, compute, comm;
  all.reserve(t.gpu.size());
  for (const auto& g : t.gpu) {
    if (trim && !launched.find(g.correlation)) {
      ++out.gpu_events_dropped;
      continue;
    }
    ++out.gpu_events_used;
    // Whole microseconds inside the event; a sub-microsecond event that spans no whole one is
    // empty (not negative, which would make non-compute time below zero).
    const std::int64_t start = ceil_div(g.ts, 1000);
    const Interval iv{start, std::max(start, floor_div(g.ts + g.dur, 1000))};
    all.push_back(iv);
    auto& type = type_of[g.name];
    if (type < 0) type = static_cast<std::int8_t>(hta_type(t.names[g.name]));
    switch (static_cast<HtaType>(type)) {
      case HtaType::kComputation:
        compute.push_back(iv);
        break;
      case HtaType::kCommunication:
        comm.push_back(iv);
        break;
      case HtaType::kMemory:
        break;
    }
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
