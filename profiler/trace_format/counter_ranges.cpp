#include "profiler/trace_format/counter_ranges.hpp"

#include <algorithm>

#include "harness/core/error.hpp"

namespace goodput::trace {

std::vector<std::string> counter_set_metrics(const std::string& set) {
  if (set == "flops")
    return {"sm__ops_path_tensor_src_bf16_dst_fp32.sum", "sm__ops_path_tensor_src_fp8.sum",
            "dram__bytes_read.sum", "dram__bytes_write.sum", "gpu__time_duration.sum"};
  if (set == "sass") {
    std::vector<std::string> m;
    for (const char* precision : {"f", "h", "d"})
      for (const char* op : {"add", "mul", "fma"})
        m.push_back(std::string("smsp__sass_thread_inst_executed_op_") + precision + op +
                    "_pred_on.sum");
    return m;
  }
  throw InputError("counter set '" + set + "': the sets are " + kCounterSets);
}

std::size_t counter_ranges_for(const std::optional<StepSpan>& steps) {
  if (!steps) return kDefaultCounterRanges;
  const auto wanted = static_cast<std::size_t>(std::max(steps->last - steps->first, 1));
  return std::min(wanted, kMaxCounterRanges);
}

CounterSchedule::CounterSchedule(std::size_t max_ranges)
    : max_ranges_(std::max<std::size_t>(max_ranges, 1)) {}

CounterActions CounterSchedule::on_step_start(std::uint64_t range_id, const std::string& name,
                                              std::uint64_t t_ns, bool in_window, bool ready) {
  CounterActions a;
  if (!in_window) return a;
  if (spans_.size() >= max_ranges_) {
    ++over_cap_;
    return a;
  }
  if (stopped_ || !ready) {  // stopped early: the context went away
    ++without_profiler_;
    return a;
  }
  if (open_) {
    ++overlapping_;
    return a;
  }
  a.start = !started_;
  a.push = true;
  started_ = true;
  open_ = range_id;
  spans_.push_back({name, t_ns, t_ns, true});
  return a;
}

CounterActions CounterSchedule::on_step_end(std::uint64_t range_id, std::uint64_t t_ns,
                                            bool window_closed) {
  CounterActions a;
  if (stopped_) return a;
  if (open_ && *open_ == range_id) {
    open_.reset();
    spans_.back().end_ns = t_ns;
    a.pop = true;
  }
  if (started_ && !open_ && (window_closed || spans_.size() >= max_ranges_)) {
    stopped_ = true;
    a.stop = true;
  }
  return a;
}

CounterActions CounterSchedule::finish(std::uint64_t t_ns) {
  CounterActions a;
  if (!started_ || stopped_) return a;
  if (open_) {
    open_.reset();
    spans_.back().end_ns = t_ns;
    spans_.back().closed = false;
    a.pop = true;
  }
  stopped_ = true;
  a.stop = true;
  return a;
}

nlohmann::json CounterSchedule::to_json() const {
  return {{"max_ranges", max_ranges_},
          {"steps_measured", spans_.size()},
          {"steps_not_measured",
           {{"over_cap", over_cap_},
            {"overlapping", overlapping_},
            {"no_profiler", without_profiler_}}}};
}

std::string CounterSchedule::shortfall() const {
  std::string s;
  auto add = [&s](const std::string& part) { s += (s.empty() ? "" : "; ") + part; };
  if (over_cap_)
    add(std::to_string(over_cap_) + " more step(s) ran after the " + std::to_string(max_ranges_) +
        " counter range(s) were used (use --steps A:B to choose which steps are measured)");
  if (overlapping_)
    add(std::to_string(overlapping_) +
        " step(s) started while another step was measured (overlapping step ranges)");
  if (without_profiler_)
    add(std::to_string(without_profiler_) +
        " step(s) ran while no range profiler was enabled (before the CUDA context existed, or "
        "after the profiler failed)");
  return s;
}

nlohmann::json counters_meta(const std::string& set, const CounterSchedule& schedule,
                             const std::vector<CounterDeviceOutcome>& devices,
                             const std::string& untraced_reason, bool interrupted,
                             const std::string& setup_error) {
  std::size_t ranges = 0, dropped = 0;
  std::string errors;
  const CounterDeviceOutcome* first = devices.empty() ? nullptr : &devices.front();
  const CounterDeviceOutcome* multi_pass = nullptr;
  nlohmann::json per_device = nlohmann::json::array();
  for (const auto& d : devices) {
    ranges += d.ranges;
    dropped += d.ranges_dropped;
    if (!d.error.empty())
      errors +=
          (errors.empty() ? "" : "; ") + ("device " + std::to_string(d.device) + ": ") + d.error;
    if (d.passes > 1 && !multi_pass) multi_pass = &d;
    per_device.push_back({{"device", d.device},
                          {"chip", d.chip},
                          {"passes", d.passes},
                          {"ranges", d.ranges},
                          {"error", d.error}});
  }
  auto join = [](std::string a, const std::string& b) {
    return b.empty() ? a : a.empty() ? b : a + "; " + b;
  };
  std::string status = kCountersNotCollected, reason;
  if (!setup_error.empty()) {
    reason = setup_error;
  } else if (ranges > 0) {
    status = kCountersCollected;
    reason = join(schedule.shortfall(), errors);
  } else if (!untraced_reason.empty()) {
    reason = "CUPTI refused to trace: " + untraced_reason;
  } else if (!errors.empty()) {
    status = kCountersFailed;
    reason = errors;
  } else if (devices.empty()) {
    reason = "no CUDA context was created while the program ran";
  } else if (multi_pass) {
    reason = "the '" + set + "' set needs " + std::to_string(multi_pass->passes) + " passes on " +
             multi_pass->chip +
             "; per-step counters need one pass (a step cannot be replayed, and kernel replay "
             "hangs on NCCL kernels)";
  } else if (interrupted && schedule.started()) {
    reason = "the program was interrupted before the measured steps were decoded";
  } else if (schedule.spans().empty()) {
    reason = join(
        "no step range started inside the step window while a range profiler was "
        "enabled",
        schedule.shortfall());
  } else {
    reason = "the measured steps were not decoded (the context ended without notice)";
  }
  nlohmann::json metrics = nlohmann::json::array(), unavailable = nlohmann::json::array();
  if (first) {
    metrics = first->metrics;
    unavailable = first->unavailable;
  }
  if (metrics.empty()) {
    try {
      metrics = counter_set_metrics(set);
    } catch (const Error&) {
    }
  }
  nlohmann::json j = {{"requested", set},
                      {"status", status},
                      {"reason", reason},
                      {"chip", first ? first->chip : ""},
                      {"metrics", metrics},
                      {"unavailable", unavailable},
                      {"passes", first ? first->passes : 0},
                      {"ranges", ranges},
                      {"ranges_dropped", dropped},
                      {"devices", per_device}};
  j.update(schedule.to_json());
  return j;
}

}  // namespace goodput::trace
