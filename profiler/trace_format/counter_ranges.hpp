// Per-step hardware counters (`goodput profile --counters SET`): which step ranges become CUPTI
// range-profiler ranges, and when the profiler starts and stops. The profiler runs with user
// ranges and user replay in one pass, so each range is one step exactly as the program ran it
// (no kernel replay: replaying NCCL kernels hangs). Host logic only; the CUPTI calls that carry
// out these decisions live in profiler/tracer/range_profiler.*.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/trace_format/tracer_env.hpp"

namespace goodput::trace {

// goodput.counters.status values.
inline constexpr const char* kCountersCollected = "collected";
inline constexpr const char* kCountersNotCollected = "not_collected";
inline constexpr const char* kCountersFailed = "failed";

// Metrics of a counter set, each one pass on GH100 (per-step collection needs one pass; checked
// with CUPTI's profiler host API in tests/tracer/counters_test.cpp):
//  "flops": tensor-core operations (bf16 in / fp32 accumulate, fp8; one op = one FLOP), DRAM
//           bytes read and written, and GPU time;
//  "sass":  FP32/FP16/FP64 add, mul and fma thread instructions (CUDA-core FLOPs as
//           add + mul + 2·fma). On GH100 these fill a pass of their own: added to "flops" they
//           need two.
// InputError for an unknown set.
std::vector<std::string> counter_set_metrics(const std::string& set);
inline constexpr const char* kCounterSets = "flops, sass";  // for messages and --help

// Ranges the counter data image holds when the window is open-ended (no --steps).
inline constexpr std::size_t kDefaultCounterRanges = 64;
// Most ranges ever held: the image grows with the range count, and it lives in the program.
inline constexpr std::size_t kMaxCounterRanges = 1024;

// Ranges to size the counter data image for: the number of steps --steps asks for, capped at
// kMaxCounterRanges; kDefaultCounterRanges for an open-ended window.
std::size_t counter_ranges_for(const std::optional<StepSpan>& steps);

// One step measured by the profiler, in push order (CUPTI numbers its ranges the same way).
struct CounterSpan {
  std::string name;  // the step range's name: the counter range carries it
  std::uint64_t start_ns = 0, end_ns = 0;
  bool closed = true;  // false: still open at exit or at context destruction, closed there
};

// What to do with the range profiler after a step event. `start` comes before the first push;
// `stop` (after any pop) ends the one pass and decodes it.
struct CounterActions {
  bool start = false, push = false, pop = false, stop = false;
  bool any() const { return start || push || pop || stop; }
};

class CounterSchedule {
 public:
  explicit CounterSchedule(std::size_t max_ranges);

  // A step range started. in_window: the step window records this step; ready: a range profiler
  // is enabled and has not failed. At most one counter range is open at a time (one nesting
  // level), so a step that starts while another is measured is not measured.
  CounterActions on_step_start(std::uint64_t range_id, const std::string& name, std::uint64_t t_ns,
                               bool in_window, bool ready);
  // A step range ended. window_closed: the step window stopped recording with it. Stops after
  // the last range the image holds, and when the window closes.
  CounterActions on_step_end(std::uint64_t range_id, std::uint64_t t_ns, bool window_closed);
  // At exit or when the context goes away: closes an open range (closed = false) and stops.
  CounterActions finish(std::uint64_t t_ns);

  bool started() const { return started_; }
  bool stopped() const { return stopped_; }
  std::size_t max_ranges() const { return max_ranges_; }
  const std::vector<CounterSpan>& spans() const { return spans_; }
  // Steps in the window that got no counter range, by cause.
  std::uint64_t steps_over_cap() const { return over_cap_; }
  std::uint64_t steps_overlapping() const { return overlapping_; }
  std::uint64_t steps_without_profiler() const { return without_profiler_; }
  // max_ranges, steps_measured, steps_not_measured {over_cap, overlapping, no_profiler}.
  nlohmann::json to_json() const;
  // Why some steps were not measured, in words ("" when all were).
  std::string shortfall() const;

 private:
  std::size_t max_ranges_;
  bool started_ = false, stopped_ = false;
  std::optional<std::uint64_t> open_;  // step range id of the open counter range
  std::vector<CounterSpan> spans_;
  std::uint64_t over_cap_ = 0, overlapping_ = 0, without_profiler_ = 0;
};

// What one context's range profiler came to.
struct CounterDeviceOutcome {
  std::uint32_t device = 0;
  std::string chip;
  std::vector<std::string> metrics, unavailable;
  std::size_t passes = 0;
  std::size_t ranges = 0;          // counter ranges written for this device
  std::size_t ranges_dropped = 0;  // ranges CUPTI reported dropped when decoding
  std::string error;               // the failure ("call: CUPTI error text"), "" when none
};

// goodput.counters: {requested, status, reason, chip, metrics, unavailable, passes, ranges,
// ranges_dropped, devices[], max_ranges, steps_measured, steps_not_measured}. Status "collected"
// when any range was written; else "failed" when a profiler failed; else "not_collected".
// untraced_reason: why CUPTI refused to trace ("" when it did not); setup_error: why the counters
// were never set up.
nlohmann::json counters_meta(const std::string& set, const CounterSchedule& schedule,
                             const std::vector<CounterDeviceOutcome>& devices,
                             const std::string& untraced_reason, bool interrupted,
                             const std::string& setup_error = "");

}  // namespace goodput::trace
