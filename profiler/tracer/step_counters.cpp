#include "profiler/tracer/step_counters.hpp"

#include <cupti.h>
#include <time.h>

#include <algorithm>

#include "harness/core/error.hpp"

namespace goodput::trace {
namespace {

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Adds the time of a scope to a counter (the tracer's own overhead on program threads).
class Timed {
 public:
  explicit Timed(std::atomic<std::uint64_t>& sum) : sum_(sum), t0_(monotonic_ns()) {}
  ~Timed() { sum_ += monotonic_ns() - t0_; }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  std::atomic<std::uint64_t>& sum_;
  std::uint64_t t0_;
};

}  // namespace

StepCounters::StepCounters(std::string set, std::vector<std::string> metrics,
                           std::size_t max_ranges, std::function<void(const std::string&)> warn)
    : set_(std::move(set)),
      metrics_(std::move(metrics)),
      warn_(std::move(warn)),
      schedule_(max_ranges) {}

// Left to the process's end: the profilers are disabled by stop() or with their contexts.
StepCounters::~StepCounters() = default;

void StepCounters::fail(Session& s, const std::string& what) {
  s.error = what;
  s.profiler.reset();  // disables it; its counter data goes with it
  bool expected = false;
  if (warned_.compare_exchange_strong(expected, true) && warn_)
    warn_("hardware counters (--counters " + set_ + ") failed on device " +
          std::to_string(s.device) + ": " + what + "; tracing goes on without them");
}

void StepCounters::on_context_created(CUcontext ctx) {
  Timed timed(overhead_ns_);
  Session s;
  s.ctx = ctx;
  try {
    std::uint32_t device = 0;
    check_cupti("cuptiGetDeviceId", cuptiGetDeviceId(ctx, &device));
    s.device = device;
    s.config = configure_for_context(ctx, device, metrics_);
    // A set that needs more than one pass is not collected: the outcome says so.
    if (s.config.passes == 1)
      s.profiler = std::make_unique<RangeProfiler>(ctx, device, s.config, schedule_.max_ranges());
  } catch (const std::exception& e) {
    fail(s, e.what());
  }
  std::lock_guard lock(inbox_mu_);
  inbox_.push_back(std::move(s));
}

void StepCounters::adopt_new_sessions() {
  std::lock_guard lock(inbox_mu_);
  // Destroyed contexts first: a session in the inbox may have a reused handle.
  for (const auto& [ctx, t_ns] : destroyed_busy_) end_context(ctx, t_ns, false);
  destroyed_busy_.clear();
  for (auto& s : inbox_) sessions_.push_back(std::move(s));
  inbox_.clear();
}

void StepCounters::give_up(Session& s) {
  if (s.profiler && !s.profiler->decoded()) {
    if (s.error.empty())
      s.error =
          "the CUDA context was destroyed while a step boundary held the counters; its "
          "undecoded ranges are lost";
    // Its context is gone: no CUPTI call may name it, not even the profiler's disable.
    static_cast<void>(s.profiler.release());
  }
  s.stopped = true;
  s.ctx = nullptr;
}

void StepCounters::end_context(CUcontext ctx, std::uint64_t t_ns, bool exists) {
  bool any_live = false;
  for (auto& s : sessions_) {
    if (s.ctx != ctx) {
      any_live = any_live || s.live();
      continue;
    }
    if (!exists) {
      give_up(s);
      continue;
    }
    // The profiler object goes with the context: decode now or never.
    stop(s);
    if (s.profiler && !s.profiler->decoded()) s.profiler.reset();
    s.stopped = true;
    s.ctx = nullptr;  // the handle may be reused by a later context
  }
  if (!any_live) schedule_.finish(t_ns);
}

void StepCounters::stop(Session& s) {
  if (!s.live()) return;
  try {
    s.profiler->pop();
    s.profiler->stop();
    s.stopped = true;
  } catch (const std::exception& e) {
    fail(s, e.what());
  }
}

void StepCounters::apply(const CounterActions& a, const std::string& name) {
  if (!a.any()) return;
  const std::size_t span = schedule_.spans().empty() ? 0 : schedule_.spans().size() - 1;
  for (auto& s : sessions_) {
    if (!s.live()) continue;
    try {
      if (a.pop) s.profiler->pop();
      if (a.stop) {
        stop(s);
        continue;
      }
      if (a.push) {
        // A context that appeared after the first step starts with its first range.
        if (!s.profiler->started()) s.profiler->start();
        s.profiler->push(name);
        s.spans.push_back(span);
      }
    } catch (const std::exception& e) {
      fail(s, e.what());
    }
  }
}

void StepCounters::on_step_start(std::uint64_t range_id, const std::string& name,
                                 std::uint64_t t_ns, bool in_window) {
  Timed timed(overhead_ns_);
  std::lock_guard lock(mu_);
  adopt_new_sessions();
  const bool ready =
      std::any_of(sessions_.begin(), sessions_.end(), [](const Session& s) { return s.live(); });
  apply(schedule_.on_step_start(range_id, name, t_ns, in_window, ready), name);
}

void StepCounters::on_step_end(std::uint64_t range_id, std::uint64_t t_ns, bool window_closed) {
  Timed timed(overhead_ns_);
  std::lock_guard lock(mu_);
  adopt_new_sessions();  // never pop a range of a context destroyed meanwhile
  apply(schedule_.on_step_end(range_id, t_ns, window_closed), "");
}

void StepCounters::on_context_destroying(CUcontext ctx, std::uint64_t t_ns) {
  Timed timed(overhead_ns_);
  std::unique_lock lock(mu_, std::defer_lock);
  if (!lock.try_lock_for(destroy_wait_)) {
    std::lock_guard inbox(inbox_mu_);
    for (auto& s : inbox_)
      if (s.ctx == ctx) give_up(s);
    destroyed_busy_.emplace_back(ctx, t_ns);  // for the sessions already adopted
    return;
  }
  adopt_new_sessions();
  end_context(ctx, t_ns, true);
}

StepCounters::Result StepCounters::finish(std::uint64_t t_ns, bool interrupted,
                                          const std::string& untraced_reason) {
  Result out;
  std::unique_lock lock(mu_, std::defer_lock);
  // A signal may have arrived while this thread held the lock: never wait long at exit.
  if (!lock.try_lock_for(std::chrono::seconds(interrupted ? 0 : 5))) {
    out.meta = counters_meta(set_, schedule_, {}, untraced_reason, interrupted,
                             "the counters were busy when the trace was written");
    return out;
  }
  adopt_new_sessions();
  if (!interrupted) {
    schedule_.finish(t_ns);
    for (auto& s : sessions_) stop(s);
  }
  std::vector<CounterDeviceOutcome> outcomes;
  for (auto& s : sessions_) {
    CounterDeviceOutcome o;
    o.device = s.device;
    o.chip = s.config.chip;
    o.metrics = s.config.metrics;
    o.unavailable = s.config.unavailable;
    o.passes = s.config.passes;
    o.error = s.error;
    if (s.profiler && s.profiler->decoded()) {
      o.ranges_dropped = s.profiler->ranges_dropped();
      try {
        const auto decoded = evaluate_counter_data(s.config, s.profiler->counter_data());
        const auto& spans = schedule_.spans();
        // CUPTI numbers the ranges in push order, as s.spans lists them.
        const std::size_t n = std::min(decoded.size(), s.spans.size());
        for (std::size_t k = 0; k < n; ++k) {
          const auto& span = spans[s.spans[k]];
          out.events.push_back(
              {span.name, s.device, span.start_ns, span.end_ns, decoded[k].metrics});
        }
        o.ranges = n;
      } catch (const std::exception& e) {
        o.error = e.what();
      }
    }
    outcomes.push_back(std::move(o));
  }
  out.meta = counters_meta(set_, schedule_, outcomes, untraced_reason, interrupted);
  out.meta["overhead_ns"] = overhead_ns_.load();
  return out;
}

}  // namespace goodput::trace
