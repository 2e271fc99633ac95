#include "profiler/analyze/steps.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "harness/core/error.hpp"
#include "profiler/analyze/flat_index.hpp"
#include "profiler/trace_format/ranges.hpp"

namespace goodput::analyze {
namespace {

enum Bucket { kGemm, kAttention, kOtherCompute, kComm, kMemory, kBuckets };

Bucket bucket_of(const traceio::GpuEvent& g, const std::vector<KernelClass>& class_of) {
  if (g.kind != traceio::GpuKind::kKernel) return kMemory;
  switch (class_of[g.name]) {
    case KernelClass::kGemm:
      return kGemm;
    case KernelClass::kAttention:
      return kAttention;
    case KernelClass::kCommunication:
      return kComm;
    case KernelClass::kMemcpy:
    case KernelClass::kMemset:
      return kMemory;
    case KernelClass::kOther:
      return kOtherCompute;
  }
  return kOtherCompute;
}

struct Point {
  std::int64_t t;
  int delta;  // +1 start, -1 end
  Bucket b;
  std::int64_t launch_end;  // host launch call end for starts; -1 unknown
};

}  // namespace

int step_at(const std::vector<Step>& steps, std::int64_t t) {
  auto it = std::upper_bound(steps.begin(), steps.end(), t,
                             [](std::int64_t v, const Step& s) { return v < s.cpu_start; });
  if (it == steps.begin()) return -1;
  --it;
  return t < it->cpu_end ? static_cast<int>(it - steps.begin()) : -1;
}

std::string effective_marker(const traceio::RankTrace& t, const StepMarker& marker) {
  if (!marker.name.empty()) return marker.name;
  if (t.tracer && !t.tracer->step_marker.empty()) return t.tracer->step_marker;
  return "";
}

std::vector<Step> find_steps(const traceio::RankTrace& t, const StepMarker& marker) {
  std::vector<Step> out;
  if (marker.window_us) {
    std::int64_t first = INT64_MAX;
    for (const auto& g : t.gpu) first = std::min(first, g.ts);
    if (first == INT64_MAX) return out;
    const auto [a, b] = *marker.window_us;
    if (!(b > a)) throw InputError("--window: end must be after start");
    out.push_back({"window", first + std::llround(a * 1e3), first + std::llround(b * 1e3)});
    return out;
  }
  const std::string name = effective_marker(t, marker);
  for (const auto& op : t.ops) {
    const std::string& n = t.names[op.name];
    const bool hit =
        name.empty() ? n.rfind("ProfilerStep#", 0) == 0 : trace::step_marker_matches(n, name);
    if (hit) out.push_back({n, op.ts, op.end()});
  }
  std::sort(out.begin(), out.end(),
            [](const Step& a, const Step& b) { return a.cpu_start < b.cpu_start; });
  // Distinct names for repeated bare markers: "step" -> "step[0]", "step[1]", ...
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!name.empty() && out[i].name == name) out[i].name += "[" + std::to_string(i) + "]";
  return out;
}

StepAnalysis analyze_steps(const traceio::RankTrace& t, const std::vector<Step>& steps,
                           const std::vector<KernelClass>& class_of, bool record_gaps) {
  StepAnalysis out;
  FlatIndex<std::pair<std::int64_t, std::int64_t>> launch;
  launch.reserve(t.runtime.size());
  for (const auto& r : t.runtime)
    if (r.correlation >= 0) launch.add(r.correlation, std::make_pair(r.ts, r.end()));
  launch.build();
  auto launch_of = [&](const traceio::GpuEvent& g) {
    const auto* l = launch.find(g.correlation);
    return l ? *l : std::make_pair(g.ts, std::int64_t{-1});
  };

  const std::size_t n = steps.size();
  std::vector<StepBreakdown> st(n);
  std::vector<std::int64_t> first(n, INT64_MAX), last(n, INT64_MIN), first_launch_end(n, -1);
  std::vector<std::int64_t> last_kernel(n, INT64_MIN);  // end of the step's last kernel
  for (std::size_t i = 0; i < n; ++i) {
    st[i].name = steps[i].name;
    st[i].cpu_start = steps[i].cpu_start;
    st[i].cpu_ns = steps[i].cpu_end - steps[i].cpu_start;
  }
  for (const auto& g : t.gpu) {
    const auto [lt, lend] = launch_of(g);
    const int s = step_at(steps, lt);
    if (s < 0) {
      ++out.gpu_events_outside_steps;
      continue;
    }
    auto& b = st[static_cast<std::size_t>(s)];
    ++b.kernels;
    if (bucket_of(g, class_of) == kComm) ++b.comm_kernels;
    if (g.ts < first[s]) {
      first[s] = g.ts;
      first_launch_end[s] = lend;
    }
    last[s] = std::max(last[s], g.end());
    if (g.kind == traceio::GpuKind::kKernel) last_kernel[s] = std::max(last_kernel[s], g.end());
  }
  for (const auto& op : t.ops) {
    if (!op.flops || op.annotation) continue;
    const int s = step_at(steps, op.ts);
    if (s >= 0) st[static_cast<std::size_t>(s)].kineto_flops += *op.flops;
  }

  // Windows tile the timeline: a step's window ends where the next step's begins, at the next
  // step's first GPU work, but not before the step's own kernels end. A host that runs ahead
  // lets a copy of the next step on another stream (an input prefetch) run under this step's
  // compute; ending the window there would cut this step short and stretch a later one. Copies
  // do not hold the boundary back: an asynchronous copy may outlast its step by design.
  std::vector<std::size_t> with_work;
  for (std::size_t i = 0; i < n; ++i)
    if (first[i] != INT64_MAX) with_work.push_back(i);
  std::vector<std::int64_t> next_launch_end(n, -1);
  std::int64_t start = with_work.empty() ? 0 : first[with_work[0]];
  for (std::size_t k = 0; k < with_work.size(); ++k) {
    const std::size_t i = with_work[k];
    st[i].window_start = start;
    if (k + 1 < with_work.size()) {
      const std::size_t j = with_work[k + 1];
      start = std::max({first[j], last_kernel[i], start});
      next_launch_end[i] = first_launch_end[j];
    } else {
      start = std::max(last[i], start);
    }
    st[i].window_end = start;
  }

  // Distribute every GPU event (attributed or not: the timeline is what it is) to the windows it
  // overlaps, clipped.
  std::vector<std::vector<Point>> pts(n);
  std::vector<std::size_t> order = with_work;  // sorted by window start already
  for (const auto& g : t.gpu) {
    if (g.dur <= 0) continue;
    const Bucket b = bucket_of(g, class_of);
    const std::int64_t lend = launch_of(g).second;
    auto it = std::upper_bound(order.begin(), order.end(), g.ts,
                               [&](std::int64_t v, std::size_t i) { return v < st[i].window_end; });
    for (; it != order.end() && st[*it].window_start < g.end(); ++it) {
      const auto& w = st[*it];
      const std::int64_t s = std::max(g.ts, w.window_start), e = std::min(g.end(), w.window_end);
      if (e <= s) continue;
      pts[*it].push_back({s, +1, b, g.ts >= w.window_start ? lend : -1});
      pts[*it].push_back({e, -1, b, -1});
    }
  }

  for (std::size_t i : with_work) {
    auto& w = st[i];
    auto& p = pts[i];
    std::sort(p.begin(), p.end(), [](const Point& a, const Point& b) {
      return a.t != b.t ? a.t < b.t : a.delta < b.delta;
    });
    std::array<int, kBuckets> active{};
    std::int64_t cur = w.window_start;
    auto account = [&](std::int64_t until, std::int64_t next_launch) {
      const std::int64_t len = until - cur;
      if (len <= 0) return;
      const bool compute = active[kGemm] || active[kAttention] || active[kOtherCompute];
      if (active[kGemm])
        w.gemm += len;
      else if (active[kAttention])
        w.attention += len;
      else if (active[kOtherCompute])
        w.other_compute += len;
      else if (active[kComm])
        w.comm_exposed += len;
      else if (active[kMemory])
        w.memory += len;
      else {
        const std::int64_t bound = std::clamp<std::int64_t>(next_launch - cur, 0, len);
        w.idle_launch += bound;
        w.idle_other += len - bound;
        if (record_gaps) out.idle_gaps.push_back({cur, until, bound});
      }
      if (compute && active[kComm]) w.comm_overlapped += len;
    };
    for (std::size_t k = 0; k < p.size(); ++k) {
      // The launch that ends an idle gap: the latest among work starting at this instant.
      std::int64_t next_launch = -1;
      for (std::size_t m = k; m < p.size() && p[m].t == p[k].t; ++m)
        if (p[m].delta > 0) next_launch = std::max(next_launch, p[m].launch_end);
      account(p[k].t, next_launch);
      cur = std::max(cur, p[k].t);
      active[p[k].b] += p[k].delta;
    }
    account(w.window_end, next_launch_end[i]);
  }
  for (std::size_t i : with_work) out.steps.push_back(std::move(st[i]));
  if (out.steps.size() < n)
    out.note = std::to_string(n - out.steps.size()) + " step(s) launched no GPU work";
  return out;
}

RankSteps rank_steps(const traceio::RankTrace& t, const StepMarker& marker_opt) {
  RankSteps out;
  out.steps = find_steps(t, marker_opt);
  if (!out.steps.empty()) return out;
  std::int64_t a = INT64_MAX, b = INT64_MIN;
  for (const auto& g : t.gpu) {
    a = std::min(a, g.ts);
    b = std::max(b, g.end());
  }
  for (const auto& c : t.runtime) {
    a = std::min(a, c.ts);
    b = std::max(b, c.end());
  }
  out.steps.push_back({"whole trace", a, b + 1});
  out.whole_trace = true;
  const std::string marker = effective_marker(t, marker_opt);
  out.note = marker.empty() ? "no ProfilerStep#N annotations: the whole trace is one step (use "
                              "--step-marker NAME or --window)"
                            : "no range named \"" + marker + "\": the whole trace is one step";
  return out;
}

}  // namespace goodput::analyze
