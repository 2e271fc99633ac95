#include "collectives/watchdog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>

namespace goodput::collectives {
namespace {

using namespace std::chrono_literals;

TEST(Watchdog, FiresOnceAfterTheDeadline) {
  std::atomic<int> calls{0};
  std::string seen;
  Watchdog w([&](const std::string& what) {
    seen = what;
    ++calls;
  });
  w.arm(0.05, "all_reduce 1 MiB on rank 0");
  EXPECT_FALSE(w.fired());
  for (int i = 0; i < 200 && !w.fired(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(w.fired());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen, "all_reduce 1 MiB on rank 0");
  EXPECT_EQ(w.fired_what(), seen);
}

TEST(Watchdog, DisarmBeforeTheDeadlineNeverFires) {
  std::atomic<int> calls{0};
  Watchdog w([&](const std::string&) { ++calls; });
  w.arm(0.1, "x");
  w.disarm();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(calls.load(), 0);
  EXPECT_FALSE(w.fired());
  w.arm(0, "never");  // 0: no timeout
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 0);
}

// A limit too large for a steady_clock duration (or not a number) once wrapped into a deadline
// in the past and aborted at once: it is no limit.
TEST(Watchdog, HugeLimitsNeverFire) {
  std::atomic<int> calls{0};
  Watchdog w([&](const std::string&) { ++calls; });
  for (const double s : {1e10, 1e12, 1e300, std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()}) {
    w.arm(s, "x");
    std::this_thread::sleep_for(30ms);
    EXPECT_FALSE(w.fired()) << s;
  }
  w.disarm();
  EXPECT_EQ(calls.load(), 0);
}

TEST(Watchdog, RearmingMovesTheDeadline) {
  std::atomic<int> calls{0};
  Watchdog w([&](const std::string&) { ++calls; });
  for (int i = 0; i < 5; ++i) {
    w.arm(0.08, "step");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(calls.load(), 0);
  for (int i = 0; i < 100 && !w.fired(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace goodput::collectives
