// Training steps and where each step's GPU time went.
//
// Steps come from ProfilerStep#N annotations, from user ranges with a given name
// (--step-marker), or from a time window. GPU work belongs to the step in which the host launched
// it (correlation to the runtime call), so both the CPU-side step time (the annotation) and the
// GPU-side step time are known. The GPU step window runs from the first GPU work of the step to the
// first GPU work of the next step, but not before the step's own kernels end (the last step: to
// the end of its own GPU work), so windows tile the GPU timeline. Inside a window every nanosecond
// lands in exactly one bucket, by priority: GEMM > attention > other compute > communication
// (exposed) > memory ops > idle; communication under compute is reported as overlapped. Idle is
// split into "waiting for the host to launch" (the work that ended the gap was launched after the
// gap began) and other gaps.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "profiler/analyze/classify.hpp"
#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

struct StepMarker {
  std::string name;                                    // "" = ProfilerStep#N
  std::optional<std::pair<double, double>> window_us;  // [start, end) µs after the first GPU event
};

struct Step {
  std::string name;
  std::int64_t cpu_start = 0, cpu_end = 0;  // ns; the marker range on the host
};

// The range name that marks steps: --step-marker, else the marker goodput's tracer recorded
// with, else "" (ProfilerStep#N). A range matches the marker by name, or the marker followed by
// a character that is not a letter, digit or '_' ("step 12", "step#3").
std::string effective_marker(const traceio::RankTrace& t, const StepMarker& marker);

// Steps sorted by start. Empty when the trace has none (the caller decides what that means).
std::vector<Step> find_steps(const traceio::RankTrace& t, const StepMarker& marker);

// The steps a rank is analysed by: find_steps, else the whole trace as one step, with a note
// that says so.
struct RankSteps {
  std::vector<Step> steps;
  std::string note;
  bool whole_trace = false;  // no step marker found: the one "step" is the whole trace
};
RankSteps rank_steps(const traceio::RankTrace& t, const StepMarker& marker);

struct StepBreakdown {
  std::string name;
  std::int64_t cpu_start = 0;                     // marker start on the host, ns
  std::int64_t cpu_ns = 0;                        // marker duration on the host
  std::int64_t window_start = 0, window_end = 0;  // GPU step window, ns
  std::int64_t gemm = 0, attention = 0, other_compute = 0;
  std::int64_t comm_exposed = 0, comm_overlapped = 0;
  std::int64_t memory = 0;
  std::int64_t idle_launch = 0, idle_other = 0;
  std::size_t kernels = 0, comm_kernels = 0;  // launched in this step
  double executed_flops = 0;  // GEMM + attention FLOPs from recorded shapes, launched in step
  double kineto_flops = 0;    // sum of Kineto's per-op "flops" args in the step (when recorded)
  std::int64_t window() const { return window_end - window_start; }
  std::int64_t compute() const { return gemm + attention + other_compute; }
  std::int64_t idle() const { return idle_launch + idle_other; }
};

// One idle stretch of the GPU inside a step window: [start, start + host_launch) waited for the
// host to launch the work that ended it, the rest is other idle time.
struct IdleGap {
  std::int64_t start = 0, end = 0, host_launch = 0;  // ns
};

struct StepAnalysis {
  std::vector<StepBreakdown> steps;
  std::vector<IdleGap> idle_gaps;  // only when asked for (record_gaps), in time order per step
  std::size_t gpu_events_outside_steps = 0;  // launched before the first or after the last step
  std::string note;
};

// Index of the step whose host range contains t (steps sorted by start), or -1.
int step_at(const std::vector<Step>& steps, std::int64_t t);

// class_of: kernel class per NameId of t.names. op_flops_by_step is filled by the caller (FLOPs
// attribution lives in flops.hpp); it may be empty.
StepAnalysis analyze_steps(const traceio::RankTrace& t, const std::vector<Step>& steps,
                           const std::vector<KernelClass>& class_of, bool record_gaps = false);

}  // namespace goodput::analyze
