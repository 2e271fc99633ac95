// Per-step hardware counters inside the tracer (`--counters SET`): a range profiler on each CUDA
// context as it is created, one counter range per step (CounterSchedule decides which), decoded
// when the window ends, the ranges run out or the context goes away, and evaluated at exit into
// "cuda_profiler_range" events. No CUPTI error reaches the program: each one is reported once on
// stderr and recorded in goodput.counters (status "failed" with CUPTI's error text), and tracing
// goes on.
//
// Locking: the schedule and the sessions are guarded by mu_, taken on program threads at step
// boundaries and in the context-destruction callback. The context-creation callback does its
// CUPTI work without mu_ and hands the new session over through a leaf lock (inbox_mu_), so a
// thread holding a driver lock there never waits for a thread that holds mu_ inside CUPTI. The
// context-destruction callback waits for mu_ a bounded time only (destroy_wait_): if a step
// boundary holds it that long (possibly waiting on the very driver lock the destroying thread
// holds), the context is queued through the leaf lock and its undecoded counters are given up,
// never the program hung.
#pragma once
#include <cuda.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/trace_format/counter_ranges.hpp"
#include "profiler/trace_format/trace_writer.hpp"
#include "profiler/tracer/range_profiler.hpp"

namespace goodput::trace {

class StepCounters {
 public:
  // metrics: of the requested set; warn: prints one line on stderr.
  StepCounters(std::string set, std::vector<std::string> metrics, std::size_t max_ranges,
               std::function<void(const std::string&)> warn);
  ~StepCounters();

  // From the CUPTI resource callbacks: a real context exists (the only place device calls run).
  void on_context_created(CUcontext ctx);
  void on_context_destroying(CUcontext ctx, std::uint64_t t_ns);
  // From the NVTX handlers, for step ranges only.
  void on_step_start(std::uint64_t range_id, const std::string& name, std::uint64_t t_ns,
                     bool in_window);
  void on_step_end(std::uint64_t range_id, std::uint64_t t_ns, bool window_closed);

  struct Result {
    std::vector<CounterRangeEvent> events;
    nlohmann::json meta;  // goodput.counters
  };
  // At exit: stops and decodes what still runs (not when interrupted: no CUPTI calls from a
  // signal handler), evaluates the counter data and describes the outcome.
  Result finish(std::uint64_t t_ns, bool interrupted, const std::string& untraced_reason);
  std::uint64_t overhead_ns() const { return overhead_ns_.load(); }

 private:
  struct Session {
    CUcontext ctx = nullptr;
    std::uint32_t device = 0;
    CounterConfig config;
    std::unique_ptr<RangeProfiler> profiler;
    std::vector<std::size_t> spans;  // schedule span of each range pushed here, in order
    std::string error;
    bool stopped = false;
    std::size_t ranges_written = 0;
    bool live() const { return profiler && error.empty() && !stopped; }
  };
  void adopt_new_sessions();  // with mu_ held: new sessions, and contexts destroyed while busy
  // With mu_ held: the context ends its session (decoded ranges kept; undecoded ones stopped and
  // decoded while it still exists, else given up) and, when none runs any more, the window.
  void end_context(CUcontext ctx, std::uint64_t t_ns, bool exists);
  static void give_up(Session& s);  // its context was destroyed unseen: drop undecoded ranges
  void apply(const CounterActions& a, const std::string& name);
  void stop(Session& s);
  void fail(Session& s, const std::string& what);

  std::string set_;
  std::vector<std::string> metrics_;
  std::function<void(const std::string&)> warn_;
  std::timed_mutex mu_;
  CounterSchedule schedule_;
  std::vector<Session> sessions_;
  std::mutex inbox_mu_;
  std::vector<Session> inbox_;
  std::vector<std::pair<CUcontext, std::uint64_t>> destroyed_busy_;  // under inbox_mu_
  std::chrono::milliseconds destroy_wait_{2000};
  std::atomic<bool> warned_{false};
  std::atomic<std::uint64_t> overhead_ns_{0};
  friend struct StepCountersTestAccess;
};

}  // namespace goodput::trace
