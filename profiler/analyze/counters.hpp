// Measured FLOPs from hardware-counter ranges (CUPTI range profiler: Kineto's
// "cuda_profiler_range" events, one per kernel, or per step from `goodput profile --counters`).
// SASS instruction counters give FLOPs per precision as add + mul + 2·fma
// (smsp__sass_thread_inst_executed_op_{d,f,h}{add,mul,fma}_pred_on.sum); they do not see
// tensor-core work. Tensor-path counters (sm__ops_path_tensor_<src/dst>.sum, math ops as
// Nsight Compute's roofline counts them: one op = one FLOP; the _sparsity_on/off splits are not
// added again) give the tensor-core FLOPs. Other metrics (DRAM bytes, ...) are summed as recorded.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/analyze/classify.hpp"
#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

struct MeasuredFlops {
  double fp64 = 0, fp32 = 0, fp16 = 0;   // SASS (CUDA cores)
  double tensor = 0;                     // tensor path
  bool any = false, any_tensor = false;  // whether such counters were recorded at all
  double total() const { return fp64 + fp32 + fp16 + tensor; }
  MeasuredFlops& operator+=(const MeasuredFlops& o);
};

// FLOPs of one range from its metrics.
MeasuredFlops sass_flops(const std::vector<std::pair<std::string, double>>& metrics);

// The `hardware_counters` section of a rank: range count, metric sums, measured FLOPs in total,
// by kernel class (range names are kernel names when the profiler ranged per kernel) and the top
// ranges; null when the trace has no counter ranges.
nlohmann::json counters_json(const traceio::RankTrace& t, const Classifier& classifier,
                             std::size_t top, std::string* report);

// Measured FLOPs of the ranges named like a step (the profiler ranged per step), by name.
std::map<std::string, MeasuredFlops> flops_by_range_name(const traceio::RankTrace& t);

}  // namespace goodput::analyze
