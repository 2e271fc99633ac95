// The per-step counter schedule and the goodput.counters outcome, without CUPTI or a GPU.
#include "profiler/trace_format/counter_ranges.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "harness/core/error.hpp"

using namespace goodput;
using namespace goodput::trace;

namespace {

// Drives a schedule through steps the way the tracer does: step i starts at 100·i and ends at
// 100·i + 50, with range id i + 1; in_window(i) says whether the window records step i, and the
// window closes with the last step it records.
struct Run {
  int starts = 0, pushes = 0, pops = 0, stops = 0;
};
Run run_steps(CounterSchedule& s, int n, int first, int last, bool ready = true) {
  Run r;
  for (int i = 0; i < n; ++i) {
    const auto id = static_cast<std::uint64_t>(i + 1);
    const auto t = static_cast<std::uint64_t>(100 * i);
    const bool in_window = i >= first && i < last;
    const auto a = s.on_step_start(id, "step " + std::to_string(i), t, in_window, ready);
    r.starts += a.start;
    r.pushes += a.push;
    const auto b = s.on_step_end(id, t + 50, i == last - 1);
    r.pops += b.pop;
    r.stops += b.stop;
  }
  return r;
}

}  // namespace

TEST(CounterSets, NamesAndMetrics) {
  const auto flops = counter_set_metrics("flops");
  EXPECT_EQ(flops.front(), "sm__ops_path_tensor_src_bf16_dst_fp32.sum");
  EXPECT_NE(std::find(flops.begin(), flops.end(), "dram__bytes_read.sum"), flops.end());
  const auto sass = counter_set_metrics("sass");
  ASSERT_EQ(sass.size(), 9u);
  EXPECT_EQ(sass.front(), "smsp__sass_thread_inst_executed_op_fadd_pred_on.sum");
  EXPECT_EQ(sass.back(), "smsp__sass_thread_inst_executed_op_dfma_pred_on.sum");
  try {
    counter_set_metrics("cycles");
    FAIL() << "an unknown set was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("flops, sass"), std::string::npos) << e.what();
  }
}

TEST(CounterSchedule, RangesAreSizedForTheRequestedSteps) {
  EXPECT_EQ(counter_ranges_for(StepSpan{10, 15}), 5u);
  EXPECT_EQ(counter_ranges_for(StepSpan{0, 1}), 1u);
  EXPECT_EQ(counter_ranges_for(std::nullopt), kDefaultCounterRanges);
  EXPECT_EQ(counter_ranges_for(StepSpan{0, 1'000'000}), kMaxCounterRanges);
}

TEST(CounterSchedule, OneRangePerStepOfTheWindow) {
  CounterSchedule s(counter_ranges_for(StepSpan{2, 5}));
  const auto r = run_steps(s, 8, 2, 5);
  EXPECT_EQ(r.starts, 1);
  EXPECT_EQ(r.pushes, 3);
  EXPECT_EQ(r.pops, 3);
  EXPECT_EQ(r.stops, 1);
  ASSERT_EQ(s.spans().size(), 3u);
  EXPECT_EQ(s.spans()[0].name, "step 2");
  EXPECT_EQ(s.spans()[0].start_ns, 200u);
  EXPECT_EQ(s.spans()[0].end_ns, 250u);
  EXPECT_EQ(s.spans()[2].name, "step 4");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.shortfall(), "");
  EXPECT_EQ(s.to_json()["steps_not_measured"]["over_cap"], 0);
  EXPECT_FALSE(s.finish(1000).any());  // already stopped: nothing left at exit
}

TEST(CounterSchedule, OpenWindowStopsWhenTheRangesRunOutAndSaysSo) {
  CounterSchedule s(4);
  const auto r = run_steps(s, 10, 0, 1'000'000);
  EXPECT_EQ(r.pushes, 4);
  EXPECT_EQ(r.stops, 1);
  EXPECT_EQ(s.spans().back().name, "step 3");
  EXPECT_EQ(s.steps_over_cap(), 6u);
  EXPECT_NE(s.shortfall().find("6 more step(s) ran after the 4 counter range(s)"),
            std::string::npos)
      << s.shortfall();
  EXPECT_EQ(s.to_json()["steps_measured"], 4);
}

TEST(CounterSchedule, OverlappingStepsGetOneRangeAtATime) {
  CounterSchedule s(8);
  EXPECT_TRUE(s.on_step_start(1, "step", 0, true, true).push);
  EXPECT_FALSE(s.on_step_start(2, "step", 10, true, true).any());  // nested in step 1
  EXPECT_FALSE(s.on_step_end(2, 20, false).any());                 // not the measured one
  const auto a = s.on_step_end(1, 30, false);
  EXPECT_TRUE(a.pop);
  EXPECT_FALSE(a.stop);
  EXPECT_EQ(s.steps_overlapping(), 1u);
  EXPECT_EQ(s.spans().size(), 1u);
  EXPECT_EQ(s.spans()[0].end_ns, 30u);
}

TEST(CounterSchedule, NoProfilerNoRange) {
  CounterSchedule s(8);
  const auto r = run_steps(s, 3, 0, 8, /*ready=*/false);
  EXPECT_EQ(r.pushes + r.starts + r.pops + r.stops, 0);
  EXPECT_EQ(s.steps_without_profiler(), 3u);
  EXPECT_FALSE(s.started());
  EXPECT_FALSE(s.finish(500).any());
}

TEST(CounterSchedule, ExitClosesTheOpenRange) {
  CounterSchedule s(8);
  EXPECT_TRUE(s.on_step_start(1, "step", 0, true, true).start);
  const auto a = s.finish(70);
  EXPECT_TRUE(a.pop);
  EXPECT_TRUE(a.stop);
  ASSERT_EQ(s.spans().size(), 1u);
  EXPECT_FALSE(s.spans()[0].closed);
  EXPECT_EQ(s.spans()[0].end_ns, 70u);
  // Steps after an early stop (the context went away) are counted, never pushed.
  EXPECT_FALSE(s.on_step_start(2, "step", 80, true, true).any());
  EXPECT_EQ(s.steps_without_profiler(), 1u);
}

TEST(CountersMeta, CollectedWithWhatWasMissed) {
  CounterSchedule s(2);
  run_steps(s, 3, 0, 100);
  CounterDeviceOutcome d;
  d.device = 1;
  d.chip = "GH100";
  d.metrics = counter_set_metrics("flops");
  d.passes = 1;
  d.ranges = 2;
  const auto j = counters_meta("flops", s, {d}, "", false);
  EXPECT_EQ(j["requested"], "flops");
  EXPECT_EQ(j["status"], kCountersCollected);
  EXPECT_EQ(j["chip"], "GH100");
  EXPECT_EQ(j["passes"], 1);
  EXPECT_EQ(j["ranges"], 2);
  EXPECT_EQ(j["max_ranges"], 2);
  EXPECT_EQ(j["metrics"], nlohmann::json(d.metrics));
  EXPECT_EQ(j["steps_not_measured"]["over_cap"], 1);
  EXPECT_NE(j["reason"].get<std::string>().find("1 more step(s)"), std::string::npos);
  EXPECT_EQ(j["devices"][0]["device"], 1);
}

TEST(CountersMeta, FailedCarriesCuptisErrorText) {
  CounterSchedule s(4);
  CounterDeviceOutcome d;
  d.chip = "GH100";
  d.passes = 1;
  d.error = "cuptiRangeProfilerEnable: CUPTI_ERROR_INSUFFICIENT_PRIVILEGES";
  const auto j = counters_meta("flops", s, {d}, "", false);
  EXPECT_EQ(j["status"], kCountersFailed);
  EXPECT_EQ(j["reason"], "device 0: cuptiRangeProfilerEnable: CUPTI_ERROR_INSUFFICIENT_PRIVILEGES");
}

TEST(CountersMeta, NotCollectedSaysWhy) {
  CounterSchedule s(4);
  auto reason = [&](const std::vector<CounterDeviceOutcome>& d, const std::string& untraced,
                    bool interrupted = false) {
    const auto j = counters_meta("flops", s, d, untraced, interrupted);
    EXPECT_EQ(j["status"], kCountersNotCollected);
    EXPECT_FALSE(j["metrics"].empty());  // the set's metrics even when no device was configured
    return j["reason"].get<std::string>();
  };
  EXPECT_NE(reason({}, "no CUDA driver is loaded in this process").find("no CUDA driver"),
            std::string::npos);
  EXPECT_NE(reason({}, "").find("no CUDA context"), std::string::npos);
  CounterDeviceOutcome two_pass;
  two_pass.chip = "GH100";
  two_pass.passes = 2;
  EXPECT_NE(reason({two_pass}, "").find("needs 2 passes on GH100"), std::string::npos);
  CounterDeviceOutcome ok;
  ok.passes = 1;
  EXPECT_NE(reason({ok}, "").find("no step range started"), std::string::npos);
  const auto j = counters_meta("cycles", s, {}, "", false, "counter set 'cycles': unknown");
  EXPECT_EQ(j["status"], kCountersNotCollected);
  EXPECT_EQ(j["reason"], "counter set 'cycles': unknown");
  EXPECT_TRUE(j["metrics"].empty());
}
