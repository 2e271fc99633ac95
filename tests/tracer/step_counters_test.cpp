// The per-step counters' locking, without a device: the context-destruction callback (which may
// run while the destroying thread holds driver locks) never waits unboundedly for a step
// boundary that holds the counters inside CUPTI.
#include "profiler/tracer/step_counters.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "profiler/tracer/counters.hpp"

namespace goodput::trace {
struct StepCountersTestAccess {
  static std::timed_mutex& mu(StepCounters& c) { return c.mu_; }
  static void set_destroy_wait(StepCounters& c, std::chrono::milliseconds w) {
    c.destroy_wait_ = w;
  }
};
}  // namespace goodput::trace

using namespace goodput::trace;
using namespace std::chrono_literals;

namespace {
CUcontext fake_context(std::uintptr_t v) {
  return reinterpret_cast<CUcontext>(v);
}
}  // namespace

TEST(StepCounters, ContextDestroyedWhileAStepHoldsTheCountersDoesNotWait) {
  StepCounters c("flops", counter_set_metrics("flops"), 8, {});
  StepCountersTestAccess::set_destroy_wait(c, 50ms);
  auto& mu = StepCountersTestAccess::mu(c);
  mu.lock();  // a step boundary, stuck inside CUPTI
  auto destroyed =
      std::async(std::launch::async, [&] { c.on_context_destroying(fake_context(0x1000), 1000); });
  const bool returned = destroyed.wait_for(10s) == std::future_status::ready;
  mu.unlock();  // lets an old, blocking callback finish before the test ends
  destroyed.get();
  ASSERT_TRUE(returned) << "the context-destruction callback waited for the step boundary";

  // The queued destruction is taken at the next boundary: the window ended with the context, so
  // later steps are counted as not measured, and the outcome is written.
  c.on_step_start(1, "step", 2000, true);
  c.on_step_end(1, 3000, false);
  const auto r = c.finish(4000, false, "");
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.meta["steps_measured"], 0) << r.meta.dump();
  EXPECT_EQ(r.meta["steps_not_measured"]["no_profiler"], 1) << r.meta.dump();
}

TEST(StepCounters, ContextDestroyedWhenIdleEndsTheWindowAtOnce) {
  StepCounters c("flops", counter_set_metrics("flops"), 8, {});
  auto destroyed =
      std::async(std::launch::async, [&] { c.on_context_destroying(fake_context(0x2000), 1000); });
  ASSERT_EQ(destroyed.wait_for(10s), std::future_status::ready);
  destroyed.get();
  EXPECT_TRUE(StepCountersTestAccess::mu(c).try_lock());  // nothing left holding it
  StepCountersTestAccess::mu(c).unlock();
  const auto r = c.finish(2000, false, "");
  EXPECT_EQ(r.meta["status"], "not_collected") << r.meta.dump();
}
