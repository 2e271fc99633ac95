#include "harness/core/timing.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"

namespace goodput {
namespace {

TimingConfig cfg() {
  TimingConfig c;
  c.warmup_min_iters = 3;
  c.warmup_max_iters = 10;
  c.settle_window = 3;
  c.settle_tolerance = 0.02;
  c.warmup_budget_s = 1.0;
  c.min_samples = 5;
  c.max_samples = 20;
  c.target_rel_spread = 0.01;
  c.budget_s = 2.0;
  return c;
}

TEST(Warmup, NotDoneBeforeMinimumIterations) {
  EXPECT_EQ(warmup_status({1.0, 1.0}, 0.0, cfg()), WarmupEnd::kNotDone);
}

TEST(Warmup, SettlesWhenLastWindowWithinTolerance) {
  // Cold first runs, then three within 2 %.
  EXPECT_EQ(warmup_status({5.0, 2.0, 1.00, 1.01, 1.015}, 0.1, cfg()), WarmupEnd::kSettled);
  // Last three span 3 %: not settled.
  EXPECT_EQ(warmup_status({5.0, 1.00, 1.03, 1.01}, 0.1, cfg()), WarmupEnd::kNotDone);
}

TEST(Warmup, StopsAtMaxIterationsOrBudget) {
  std::vector<double> noisy;
  for (int i = 0; i < 10; ++i) noisy.push_back(i % 2 ? 1.0 : 2.0);
  EXPECT_EQ(warmup_status(noisy, 0.1, cfg()), WarmupEnd::kMaxIters);
  EXPECT_EQ(warmup_status({1.0, 2.0}, 1.5, cfg()), WarmupEnd::kBudget);
  EXPECT_EQ(warmup_status({}, 5.0, cfg()), WarmupEnd::kNotDone);  // always at least one run
}

TEST(Stop, ContinuesBelowMinimumSamples) {
  EXPECT_EQ(stop_status({1, 1, 1}, 0.1, cfg()), StopReason::kContinue);
}

TEST(Stop, StopsWhenSpreadReached) {
  EXPECT_EQ(stop_status({1, 1, 1, 1, 1.001}, 0.1, cfg()), StopReason::kSpreadReached);
}

TEST(Stop, NoisySamplesContinueUntilBudgetOrMax) {
  const std::vector<double> noisy = {1, 2, 1, 2, 1, 2};
  EXPECT_EQ(stop_status(noisy, 0.5, cfg()), StopReason::kContinue);
  EXPECT_EQ(stop_status(noisy, 2.5, cfg()), StopReason::kBudget);
  std::vector<double> many(20, 1.0);
  many[0] = 3;
  many[1] = 5;
  many[2] = 0.2;
  EXPECT_EQ(stop_status(many, 0.1, cfg()), StopReason::kMaxSamples);
}

TEST(Stop, BudgetStillNeedsThreeSamples) {
  EXPECT_EQ(stop_status({1, 2}, 10.0, cfg()), StopReason::kContinue);
  EXPECT_EQ(stop_status({1, 2, 3}, 10.0, cfg()), StopReason::kBudget);
}

TEST(Config, QuickIsShorterAndValid) {
  const auto q = default_timing(true), d = default_timing(false);
  EXPECT_LT(q.budget_s, d.budget_s);
  EXPECT_LE(q.max_samples, d.max_samples);
  EXPECT_NO_THROW(validate(q));
  EXPECT_NO_THROW(validate(d));
  auto bad = d;
  bad.max_samples = bad.min_samples - 1;
  EXPECT_THROW(validate(bad), InputError);
  bad = d;
  bad.settle_window = 1;
  EXPECT_THROW(validate(bad), InputError);
}

TEST(Throttle, IdleAndClockSettingsAreNotThrottling) {
  EXPECT_FALSE(throttled_by(0));
  EXPECT_FALSE(throttled_by(0x1));    // idle
  EXPECT_FALSE(throttled_by(0x2));    // applications clocks setting
  EXPECT_FALSE(throttled_by(0x100));  // display clock setting
  EXPECT_FALSE(throttled_by(0x103));
}

TEST(Throttle, SlowdownsAreThrottling) {
  for (std::uint64_t bit : {0x4ull, 0x8ull, 0x10ull, 0x20ull, 0x40ull, 0x80ull})
    EXPECT_TRUE(throttled_by(bit)) << bit;
  EXPECT_TRUE(throttled_by(0x1 | 0x4));
}

TEST(Throttle, ReasonNames) {
  EXPECT_EQ(clocks_event_reason_names(0x4 | 0x40),
            (std::vector<std::string>{"sw_power_cap", "hw_thermal_slowdown"}));
  EXPECT_EQ(clocks_event_reason_names(0x1000), (std::vector<std::string>{"unknown"}));
  EXPECT_TRUE(clocks_event_reason_names(0).empty());
}

TEST(Telemetry, MissingFieldsAreNotAvailable) {
  const auto j = to_json(TelemetrySample{});
  EXPECT_EQ(j["sm_clock_mhz"], "not available");
  EXPECT_EQ(j["clocks_event_reasons"], "not available");
  EXPECT_FALSE(j["throttled"].get<bool>());
  const auto s = summarize_telemetry({});
  EXPECT_EQ(s["sm_clock_mhz"], "not available");
  EXPECT_EQ(s["throttled_samples"], 0);
}

TEST(Telemetry, SummaryAndMedianClock) {
  std::vector<TelemetrySample> v(3);
  v[0].sm_clock_mhz = 1980;
  v[1].sm_clock_mhz = 1755;
  v[2].sm_clock_mhz = 1830;
  v[1].clocks_event_reasons = 0x4;
  v[1].throttled = true;
  EXPECT_DOUBLE_EQ(*median_sm_clock(v), 1830);
  const auto s = summarize_telemetry(v);
  EXPECT_EQ(s["sm_clock_mhz"]["min"], 1755);
  EXPECT_EQ(s["sm_clock_mhz"]["max"], 1980);
  EXPECT_EQ(s["throttled_samples"], 1);
  EXPECT_EQ(s["clocks_event_reasons_seen"], nlohmann::json::array({"sw_power_cap"}));
  EXPECT_FALSE(median_sm_clock({TelemetrySample{}}).has_value());
}

}  // namespace
}  // namespace goodput
