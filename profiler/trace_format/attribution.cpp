#include "profiler/trace_format/attribution.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace goodput::trace {

void Attribution::add_launch(const LaunchRef& l) {
  if (size() >= max_refs_) {
    overflowed_ = true;
    return;
  }
  launches_.push_back(l);
  prepared_ = false;
}

void Attribution::add_gpu(const GpuRef& g) {
  if (size() >= max_refs_) {
    overflowed_ = true;
    return;
  }
  gpu_.push_back(g);
  prepared_ = false;
}

void Attribution::prepare() {
  if (prepared_) return;
  std::sort(launches_.begin(), launches_.end(), [](const LaunchRef& a, const LaunchRef& b) {
    return std::tie(a.tid, a.t_ns) < std::tie(b.tid, b.t_ns);
  });
  std::sort(gpu_.begin(), gpu_.end(), [](const GpuRef& a, const GpuRef& b) {
    return std::tie(a.correlation, a.start_ns) < std::tie(b.correlation, b.start_ns);
  });
  prepared_ = true;
}

template <typename F>
void Attribution::for_launched(std::uint64_t tid, std::uint64_t start, std::uint64_t end,
                               F&& f) const {
  auto lo = std::lower_bound(launches_.begin(), launches_.end(), LaunchRef{tid, start, 0},
                             [](const LaunchRef& a, const LaunchRef& b) {
                               return std::tie(a.tid, a.t_ns) < std::tie(b.tid, b.t_ns);
                             });
  for (auto it = lo; it != launches_.end() && it->tid == tid && it->t_ns <= end; ++it) {
    auto g = std::lower_bound(gpu_.begin(), gpu_.end(), it->correlation,
                              [](const GpuRef& a, std::uint32_t c) { return a.correlation < c; });
    for (; g != gpu_.end() && g->correlation == it->correlation; ++g)
      f(static_cast<std::size_t>(g - gpu_.begin()));
  }
}

std::vector<GpuSpan> Attribution::gpu_spans(const std::vector<RangeRecord>& ranges) {
  prepare();
  std::vector<GpuSpan> out;
  for (const auto& r : ranges) {
    std::map<std::pair<std::uint32_t, std::uint32_t>, GpuSpan> per_stream;
    for_launched(r.tid, r.start_ns, r.end_ns, [&](std::size_t i) {
      const auto& g = gpu_[i];
      auto [it, fresh] = per_stream.try_emplace({g.device, g.stream});
      auto& s = it->second;
      if (fresh) {
        s = {r.id, g.device, g.stream, g.start_ns, g.end_ns, 0};
      }
      s.start_ns = std::min(s.start_ns, g.start_ns);
      s.end_ns = std::max(s.end_ns, g.end_ns);
      ++s.count;
    });
    for (auto& [key, s] : per_stream) out.push_back(s);
  }
  return out;
}

std::vector<StepSummary> Attribution::steps(const std::vector<RangeRecord>& step_ranges,
                                            int first_index) {
  prepare();
  std::vector<StepSummary> out;
  std::vector<bool> claimed(gpu_.size(), false);
  for (std::size_t k = 0; k < step_ranges.size(); ++k) {
    const auto& r = step_ranges[k];
    StepSummary s;
    s.index = first_index + static_cast<int>(k);
    s.range_id = r.id;
    s.name = r.name;
    s.tid = r.tid;
    s.cpu_start_ns = r.start_ns;
    s.cpu_end_ns = r.end_ns;
    for_launched(r.tid, r.start_ns, r.end_ns, [&](std::size_t i) {
      if (claimed[i]) return;
      claimed[i] = true;
      ++s.activities_launched;
      s.gpu_start_ns = std::min(s.gpu_start_ns.value_or(gpu_[i].start_ns), gpu_[i].start_ns);
      s.gpu_end_ns = std::max(s.gpu_end_ns.value_or(gpu_[i].end_ns), gpu_[i].end_ns);
    });
    out.push_back(s);
  }
  // Rule 2: the first step whose GPU window (fixed by rule 1) holds the activity's start.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> windows;
  for (const auto& s : out)
    windows.emplace_back(std::min(s.cpu_start_ns, s.gpu_start_ns.value_or(s.cpu_start_ns)),
                         std::max(s.cpu_end_ns, s.gpu_end_ns.value_or(s.cpu_end_ns)));
  for (std::size_t i = 0; i < gpu_.size(); ++i) {
    if (claimed[i]) continue;
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (gpu_[i].start_ns < windows[k].first || gpu_[i].start_ns > windows[k].second) continue;
      auto& s = out[k];
      ++s.activities_by_gpu_time;
      s.gpu_start_ns = std::min(s.gpu_start_ns.value_or(gpu_[i].start_ns), gpu_[i].start_ns);
      s.gpu_end_ns = std::max(s.gpu_end_ns.value_or(gpu_[i].end_ns), gpu_[i].end_ns);
      break;
    }
  }
  return out;
}

nlohmann::json to_json(const StepSummary& s, std::uint64_t base_ns) {
  auto us = [&](const std::optional<std::uint64_t>& v) {
    return v ? nlohmann::json(to_us(*v, base_ns)) : nlohmann::json();
  };
  return {{"index", s.index},
          {"range id", s.range_id},
          {"name", s.name},
          {"tid", s.tid},
          {"cpu_start_us", to_us(s.cpu_start_ns, base_ns)},
          {"cpu_end_us", to_us(s.cpu_end_ns, base_ns)},
          {"gpu_start_us", us(s.gpu_start_ns)},
          {"gpu_end_us", us(s.gpu_end_ns)},
          {"activities_launched", s.activities_launched},
          {"activities_by_gpu_time", s.activities_by_gpu_time}};
}

}  // namespace goodput::trace
