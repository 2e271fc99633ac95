// --convention google against scenarios of ml-goodput-measurement's own tests
// (tests/goodput_test.py): its constants are 1 s TPU init, 2 s training preparation, 2 s data
// loading, 5 s program startup, 3 s steps, 5 steps, +5 s on the first step of each segment and a
// 5 s disruption. The expected numbers are worked out below, second by second.
#include <gtest/gtest.h>

#include "harness/core/error.hpp"
#include "profiler/ledger/google.hpp"
#include "tests/ledger/test_log.hpp"

using namespace goodput;
using namespace goodput::ledger;
using goodput::ledger::test::LogBuilder;

namespace {

void steps_from(LogBuilder& b, double& t, int first, int last, double extra_first) {
  for (int s = first; s <= last; ++s) {
    b.add(t, "step_start", "\"step\":" + std::to_string(s));
    t += 3;
    if (s == first) t += extra_first;
  }
}

// init 0-1, prep 1-3, data 3-5, then steps from t = 5.
LogBuilder with_setup(double t0) {
  LogBuilder b;
  b.add(t0, "attempt_start", "\"attempt\":1");
  b.phase(t0, t0 + 1, "init").phase(t0 + 1, t0 + 3, "prep").phase(t0 + 3, t0 + 5, "data");
  return b;
}

}  // namespace

// test_goodput_calculator: steps 0..4 from t = 5, end at 20: productive 15 of 20 s.
TEST(GoogleConvention, PlainJob) {
  LogBuilder b;
  b.add(0, "attempt_start");
  double t = 5;
  steps_from(b, t, 0, 4, 0);
  b.add(20, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.total_s, 20);
  EXPECT_DOUBLE_EQ(g.productive_s, 15);
  EXPECT_DOUBLE_EQ(g.goodput_percent, 75);
  EXPECT_EQ(g.last_step, 4);
}

// test_goodput_with_startup_badput: first step 8 s instead of 3: 5 s startup, total 25 s.
TEST(GoogleConvention, ProgramStartup) {
  LogBuilder b;
  b.add(0, "attempt_start");
  double t = 5;
  steps_from(b, t, 0, 4, 5);
  b.add(25, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.goodput_percent, 60);  // 5 x 3 s of 25 s
  EXPECT_DOUBLE_EQ(g.badput_s.at("PROGRAM_STARTUP"), 5);
  EXPECT_DOUBLE_EQ(g.badput_s.at("OTHER"), 5);  // the 5 s before the first step
}

// test_badput_calculator_wasted_progress_and_disruptions (and ..._infrastructure_badput_...):
// attempt 1: init 0-1, prep 1-3, data 3-5, steps 0..4 start at 5, 13, 16, 19, 22; a 5 s
// disruption after 25; restart at 30; steps 2..4 start at 35, 43, 46; end at 49.
//   productive: segment 1 keeps steps 0,1 = 8 + 3 - 5 (startup) = 6; segment 2: 8 + 3 - 5 = 6,
//   plus the last step 49 - 46 = 3: 15 s of 49 s = 30.61 %.
//   wasted progress: steps 2 and 3 of attempt 1 (16 -> 22) = 6 s.
//   infrastructure recovery: restart 30 - start of the last step before it (22) = 8 s.
//   program startup: 5 + 5 = 10 s. The library also adds the last data load before the restart
//   again as synchronous loading, so DATA_LOADING_SYNC is 2 + 2 = 4 s; other = 49-15-31 = 3 s.
TEST(GoogleConvention, DisruptionScenario49s) {
  LogBuilder b = with_setup(0);
  double t = 5;
  steps_from(b, t, 0, 4, 5);
  EXPECT_DOUBLE_EQ(t, 25);
  b.add(30, "attempt_start", "\"attempt\":2");
  t = 35;
  steps_from(b, t, 2, 4, 5);
  b.add(49, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.total_s, 49);
  EXPECT_DOUBLE_EQ(g.productive_s, 15);
  EXPECT_NEAR(g.goodput_percent, 30.61, 0.005);
  EXPECT_DOUBLE_EQ(g.badput_s.at("WASTED_PROGRESS_FROM_DISRUPTION"), 6);
  EXPECT_DOUBLE_EQ(g.badput_s.at("INFRASTRUCTURE_RECOVERY_FROM_DISRUPTION"), 8);
  EXPECT_DOUBLE_EQ(g.badput_s.at("PROGRAM_STARTUP"), 10);
  EXPECT_DOUBLE_EQ(g.badput_s.at("TPU_INITIALIZATION"), 1);
  EXPECT_DOUBLE_EQ(g.badput_s.at("TRAINING_PREP"), 2);
  EXPECT_DOUBLE_EQ(g.badput_s.at("DATA_LOADING_SYNC"), 4);
  EXPECT_DOUBLE_EQ(g.badput_s.at("OTHER"), 3);
  EXPECT_EQ(g.disruptions, 1u);
}

// test_badput_calculator_sync_data_loading: 1 + 2 + 2 s of setup, 5 steps of 3 s: 20 s, of
// which the first (synchronous) load is 2 s = 10 %.
TEST(GoogleConvention, SyncDataLoading) {
  LogBuilder b = with_setup(0);
  double t = 5;
  steps_from(b, t, 0, 4, 0);
  b.add(20, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.badput_s.at("DATA_LOADING_SYNC"), 2);
  EXPECT_DOUBLE_EQ(100 * g.badput_s.at("DATA_LOADING_SYNC") / g.total_s, 10);
  EXPECT_DOUBLE_EQ(g.goodput_percent, 75);
}

// test_badput_calculator_async_data_loading: after each 3 s step a 2 s load: 1+2+2+5x5 = 30 s;
// the five later loads are asynchronous: 10 s = 33.3 %, and not subtracted from productive.
TEST(GoogleConvention, AsyncDataLoading) {
  LogBuilder b = with_setup(0);
  double t = 5;
  for (int s = 0; s < 5; ++s) {
    b.add(t, "step_start", "\"step\":" + std::to_string(s));
    b.phase(t + 3, t + 5, "data");
    t += 5;
  }
  b.add(30, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.total_s, 30);
  EXPECT_DOUBLE_EQ(g.badput_s.at("DATA_LOADING_ASYNC"), 10);
  EXPECT_NEAR(100 * g.badput_s.at("DATA_LOADING_ASYNC") / g.total_s, 33.33, 0.01);
}

// test_badput_calculator_custom_sync_badput: init 1 s, startup 5 s, steps 0..4, a 5 s eval,
// steps 5..9: 41 s; the eval inside the step 4 -> 5 interval is custom badput; goodput 30/41.
TEST(GoogleConvention, CustomBadputEvent) {
  LogBuilder b;
  b.add(0, "attempt_start");
  b.phase(0, 1, "init");
  double t = 6;
  steps_from(b, t, 0, 4, 0);
  b.phase(t, t + 5, "eval_step");
  t += 5;
  steps_from(b, t, 5, 9, 0);
  b.add(41, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.custom_s.at("EVAL_STEP"), 5);
  EXPECT_NEAR(g.goodput_percent, 100.0 * 30 / 41, 1e-9);
}

// test_badput_calculator_unknown_badput: init 1 s, steps from 6 s, 5 unexplained seconds:
// 26 s total, other = 26 - 20 (productive, the last step runs to the end) - 1 = 5 s.
TEST(GoogleConvention, UnknownBadput) {
  LogBuilder b;
  b.add(0, "attempt_start");
  b.phase(0, 1, "init");
  double t = 6;
  steps_from(b, t, 0, 4, 0);
  b.add(26, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.productive_s, 20);
  EXPECT_DOUBLE_EQ(g.badput_s.at("OTHER"), 5);
}

TEST(GoogleConvention, CheckpointSaveIsSubtracted) {
  LogBuilder b;
  b.add(0, "attempt_start");
  double t = 0;
  steps_from(b, t, 0, 4, 0);  // starts 0..12, end 15
  b.save(4, 5, 1);            // 1 s blocking save inside step 1
  b.add(15, "job_end");
  const auto g = compute_google(b.parse());
  EXPECT_DOUBLE_EQ(g.productive_s, 14);
  EXPECT_DOUBLE_EQ(g.badput_s.at("UNPRODUCTIVE_CHECKPOINT_SAVE_TIME"), 1);
}

TEST(GoogleConvention, NoStartIsAnInputError) {
  LogBuilder b;
  b.add(0, "step_start", "\"step\":1");
  EXPECT_THROW(compute_google(b.parse()), InputError);
}

// The reader's warnings (here an out-of-order line) reach the google report and its JSON.
TEST(GoogleConvention, ReaderWarningsAreReported) {
  LogBuilder b;
  b.add(0, "attempt_start");
  double t = 5;
  steps_from(b, t, 0, 4, 0);
  b.add(20, "job_end").add(19, "gpu_temperature");
  const auto log = b.parse();
  ASSERT_FALSE(log.warnings.empty());
  const auto g = compute_google(log);
  const std::string text = format_report(g, log);
  EXPECT_NE(text.find("unknown event kind 'gpu_temperature'"), std::string::npos) << text;
  const auto j = to_json(g, log);
  bool found = false;
  for (const auto& w : j["warnings"])
    found |= w["message"].get<std::string>().find("gpu_temperature") != std::string::npos;
  EXPECT_TRUE(found) << j["warnings"].dump();
}
