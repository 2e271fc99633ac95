// Which GPU work belongs to which NVTX range. Rule 1: work whose launch (runtime or driver API
// call) happened on a range's thread inside the range's CPU interval belongs to it. Rule 2 (steps
// only): work with no such launch (launched from another thread, or its launch record was lost)
// belongs to the step whose GPU window contains its GPU start time; a step's GPU window spans its
// CPU interval and the GPU work attributed to it by rule 1.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/trace_format/ranges.hpp"
#include "profiler/trace_format/trace_writer.hpp"

namespace goodput::trace {

struct LaunchRef {
  std::uint64_t tid = 0;
  std::uint64_t t_ns = 0;  // start of the API call
  std::uint32_t correlation = 0;
};

struct GpuRef {
  std::uint32_t correlation = 0;
  std::uint32_t device = 0, stream = 0;
  std::uint64_t start_ns = 0, end_ns = 0;
};

struct StepSummary {
  int index = 0;
  std::uint64_t range_id = 0;
  std::string name;
  std::uint64_t tid = 0;
  std::uint64_t cpu_start_ns = 0, cpu_end_ns = 0;
  std::optional<std::uint64_t> gpu_start_ns, gpu_end_ns;  // over all its GPU work
  std::uint32_t activities_launched = 0;                  // rule 1
  std::uint32_t activities_by_gpu_time = 0;               // rule 2
};

class Attribution {
 public:
  // Keeps at most max_refs launches and GPU activities together; past that attribution is
  // reported incomplete instead of growing without bound.
  explicit Attribution(std::size_t max_refs = 4u << 20) : max_refs_(max_refs) {}
  void add_launch(const LaunchRef& l);
  void add_gpu(const GpuRef& g);
  bool overflowed() const { return overflowed_; }
  std::size_t size() const { return launches_.size() + gpu_.size(); }

  // Rule 1 for every range: one span per (range, device, stream) that has GPU work.
  std::vector<GpuSpan> gpu_spans(const std::vector<RangeRecord>& ranges);
  // Rules 1 and 2 for the step ranges (in start order, index = position).
  std::vector<StepSummary> steps(const std::vector<RangeRecord>& step_ranges, int first_index = 0);

 private:
  void prepare();
  // Indices into gpu_ of the work launched by `tid` within [start, end].
  template <typename F>
  void for_launched(std::uint64_t tid, std::uint64_t start, std::uint64_t end, F&& f) const;

  std::size_t max_refs_;
  bool overflowed_ = false;
  bool prepared_ = false;
  std::vector<LaunchRef> launches_;
  std::vector<GpuRef> gpu_;  // sorted by correlation once prepared
};

nlohmann::json to_json(const StepSummary& s, std::uint64_t base_ns);

}  // namespace goodput::trace
