// The temporal breakdown and communication/computation overlap exactly as HolisticTraceAnalysis
// computes them (get_temporal_breakdown, get_comm_comp_overlap), so numbers can be compared with
// it: HTA drops the GPU work not launched before the start of the last ProfilerStep (when the
// trace has at least two), types kernels by name (hta_type), rounds each GPU event to whole
// microseconds (start up, end down, as its loader does), and spans the first to the last kept
// GPU event. Like HTA, it counts a CPU op or a cuda_sync wait whose args name a stream
// (torch.compile's Triton launchers, Stream Sync) as GPU work of its name's type.
#pragma once
#include <cstdint>
#include <optional>

#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

struct HtaBreakdown {
  int rank = 0;
  std::int64_t span_us = 0, idle_us = 0, compute_us = 0, non_compute_us = 0;
  double idle_pct = 0, compute_pct = 0, non_compute_pct = 0;
  std::optional<double> comm_comp_overlap_pct;  // none when there is no communication
  bool last_step_dropped = false;
  std::size_t gpu_events_used = 0, gpu_events_dropped = 0;
  std::size_t cpu_ops_with_stream = 0;  // CPU ops counted as GPU work, as HTA counts them
  std::size_t syncs_with_stream = 0;    // cuda_sync waits on a stream, likewise
};

// InputError when the trace has no GPU events left to analyse.
HtaBreakdown hta_breakdown(const traceio::RankTrace& t);

}  // namespace goodput::analyze
