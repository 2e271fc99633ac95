// The calculator on scenarios whose every second was assigned by hand first (see each comment).
#include "profiler/ledger/ledger.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "harness/core/error.hpp"
#include "tests/ledger/test_log.hpp"

using namespace goodput;
using namespace goodput::ledger;
using goodput::ledger::test::kT0;
using goodput::ledger::test::LogBuilder;

namespace {

double cat(const Ledger& l, const std::string& name) {
  for (const auto& t : l.totals)
    if (t.category == name) return t.seconds;
  return 0;
}

// job submitted 0; allocated 10; attempt 20; init 20-30; steps 30-40-50-60; save(3) 60-65;
// step 4 65-75; attempt end 80; job end 85.
LogBuilder single_attempt() {
  LogBuilder b;
  b.add(0, "job_start", "\"gpus\":8")
      .add(10, "resources_allocated", "\"gpus\":8")
      .add(20, "attempt_start", "\"attempt\":1")
      .phase(20, 30, "init")
      .step(30, 40, 1)
      .step(40, 50, 2)
      .step(50, 60, 3)
      .save(60, 65, 3)
      .step(65, 75, 4)
      .add(80, "attempt_end", "\"attempt\":1")
      .add(85, "job_end", "\"status\":\"ok\"");
  return b;
}

// attempt 1: init 0-5, steps 1,2 (5-15-25), save(2) 25-27, steps 3,4 (27-37-47), step 5 starts
// 47 and never ends; infra fault 'xid 79' on rank 3 at 52. attempt 2 at 70: init 70-75,
// restore(2) 75-80, steps 3,4,5 80-90-100-110, job end 110.
LogBuilder fault_and_restore(bool second_rank = false, double skew = 0) {
  LogBuilder b;
  b.add(0, "job_start").add(0, "attempt_start", "\"attempt\":1").phase(0, 5, "init");
  b.step(5, 15, 1).step(15, 25, 2).save(25, 27, 2).step(27, 37, 3).step(37, 47, 4);
  b.add(47, "step_start", "\"step\":5");
  if (second_rank) {
    b.step(5 + skew, 15 + skew, 1, 1).step(15 + skew, 25 + skew, 2, 1);
    b.step(27 + skew, 37 + skew, 3, 1).step(37 + skew, 47 + skew, 4, 1);
    b.add(52 + skew, "fault", "\"cause\":\"xid 79\",\"layer\":\"infra\",\"ranks\":[3]", 1);
  } else {
    b.add(52, "fault", "\"cause\":\"xid 79\",\"layer\":\"infra\",\"ranks\":[3]");
  }
  b.add(70, "attempt_start", "\"attempt\":2").phase(70, 75, "init").restore(75, 80, 2);
  b.step(80, 90, 3).step(90, 100, 4).step(100, 110, 5);
  b.add(110, "job_end", "\"status\":\"ok\"");
  return b;
}

}  // namespace

// 85 s: queueing 10, orchestration 10, init 10, productive 40, save 5, shutdown 5, teardown 5.
// infra = (85 - 25) / 85; framework = 40 / 60; with MFU 0.5: goodput = 20 / 85.
TEST(Ledger, SingleAttemptByHand) {
  LedgerOptions opt;
  opt.model = {0.5, "--mfu 0.5"};
  const auto log = single_attempt().parse();
  const auto l = compute_ledger(log, opt);
  EXPECT_DOUBLE_EQ(l.window_s, 85);
  EXPECT_NEAR(cat(l, "queueing"), 10, 1e-6);
  EXPECT_NEAR(cat(l, "orchestration"), 10, 1e-6);
  EXPECT_NEAR(cat(l, "init"), 10, 1e-6);
  EXPECT_NEAR(cat(l, "productive"), 40, 1e-6);
  EXPECT_NEAR(cat(l, "checkpoint_save"), 5, 1e-6);
  EXPECT_NEAR(cat(l, "shutdown"), 5, 1e-6);
  EXPECT_NEAR(cat(l, "teardown"), 5, 1e-6);
  EXPECT_NEAR(l.available_s, 60, 1e-6);
  EXPECT_NEAR(l.infra_goodput, 60.0 / 85, 1e-9);
  EXPECT_NEAR(l.framework_goodput, 40.0 / 60, 1e-9);
  ASSERT_TRUE(l.goodput.has_value());
  EXPECT_NEAR(*l.goodput, 20.0 / 85, 1e-9);
  EXPECT_EQ(l.gpus, 8);
  double sum = 0;
  for (const auto& t : l.totals) sum += t.seconds;
  EXPECT_NEAR(sum, l.window_s, 1e-6);
  ASSERT_EQ(l.attempts.size(), 1u);
  EXPECT_EQ(l.attempts[0].steps_kept, 4u);
  EXPECT_TRUE(l.warnings.empty());
}

TEST(Ledger, ModelLayerUnknownWithoutMfu) {
  const auto l = compute_ledger(single_attempt().parse(), {});
  EXPECT_FALSE(l.goodput.has_value());
  EXPECT_FALSE(l.model.mfu.has_value());
  const auto j = to_json(l, single_attempt().parse());
  EXPECT_TRUE(j["goodput"].is_null());
  EXPECT_FALSE(j["layers"]["model"]["known"].get<bool>());
}

// Window 25..60: init 25-30 (5 s) and steps 30-60 (30 s): infra 1, framework 30/35.
TEST(Ledger, MeasurementWindow) {
  LedgerOptions opt;
  opt.from = kT0 + 25;
  opt.to = kT0 + 60;
  const auto l = compute_ledger(single_attempt().parse(), opt);
  EXPECT_DOUBLE_EQ(l.window_s, 35);
  EXPECT_NEAR(l.infra_goodput, 1.0, 1e-9);
  EXPECT_NEAR(l.framework_goodput, 30.0 / 35, 1e-9);
  opt.from = kT0 + 70;
  opt.to = kT0 + 60;
  EXPECT_THROW(compute_ledger(single_attempt().parse(), opt), InputError);
}

// 110 s: attempt 1 init 5, kept steps 1-2 20, save 2, lost steps 3-4 20 (attempt 2 resumed from
// the checkpoint of step 2), unfinished step 5 47-52 5; infra fault 52-70 18; attempt 2 init 5,
// restore 5, kept 30. The fault costs 18 + 20 + 5 + 5 + 5 = 53 s.
TEST(Ledger, FaultWithRestoreAndRedoneSteps) {
  const auto log = fault_and_restore().parse();
  const auto l = compute_ledger(log, {});
  EXPECT_DOUBLE_EQ(l.window_s, 110);
  EXPECT_NEAR(cat(l, "init"), 10, 1e-6);
  EXPECT_NEAR(cat(l, "productive"), 50, 1e-6);
  EXPECT_NEAR(cat(l, "checkpoint_save"), 2, 1e-6);
  EXPECT_NEAR(cat(l, "lost_progress"), 20, 1e-6);
  EXPECT_NEAR(cat(l, "unfinished_step"), 5, 1e-6);
  EXPECT_NEAR(cat(l, "infra_fault"), 18, 1e-6);
  EXPECT_NEAR(cat(l, "checkpoint_restore"), 5, 1e-6);
  EXPECT_NEAR(l.infra_goodput, 92.0 / 110, 1e-9);
  EXPECT_NEAR(l.framework_goodput, 50.0 / 92, 1e-9);
  ASSERT_EQ(l.faults.size(), 1u);
  EXPECT_NEAR(l.faults[0].cost_s, 53, 1e-6);
  EXPECT_EQ(l.faults[0].ranks, "3");
  // The lost steps point at the fault and at the checkpoint of step 2 (its save at line 9).
  bool found = false;
  for (const auto& loss : l.losses)
    if (loss.category == "lost_progress") {
      const Cause& c = l.causes[loss.cause];
      EXPECT_EQ(c.fault, 0);
      EXPECT_EQ(c.checkpoint_step, 2);
      EXPECT_NE(c.checkpoint.find("test.jsonl:9"), std::string::npos) << c.checkpoint;
      EXPECT_NE(c.description.find("xid 79"), std::string::npos);
      found = true;
    }
  EXPECT_TRUE(found);
  ASSERT_EQ(l.attempts.size(), 2u);
  EXPECT_EQ(l.attempts[0].steps_kept, 2u);
  EXPECT_EQ(l.attempts[0].steps_lost, 2u);
  EXPECT_EQ(l.attempts[0].unfinished, 1u);
  EXPECT_EQ(l.attempts[1].resumed_from, 2);
  EXPECT_NEAR(l.attempts[1].productive_s, 30, 1e-6);
}

// A second rank whose clock runs 2 s ahead logs the fault: after the skew correction the ledger
// is the same as with one rank.
TEST(Ledger, SeveralRanksWithClockSkew) {
  const auto log = fault_and_restore(true, 2.0).parse();
  ASSERT_EQ(log.skew.size(), 1u);
  EXPECT_NEAR(log.skew[0].offset_s, 2.0, 1e-6);
  EXPECT_EQ(log.ranks_seen.size(), 2u);
  const auto l = compute_ledger(log, {});
  EXPECT_NEAR(cat(l, "productive"), 50, 1e-6);
  EXPECT_NEAR(cat(l, "infra_fault"), 18, 1e-6);
  EXPECT_NEAR(cat(l, "unfinished_step"), 5, 1e-6);
  ASSERT_EQ(l.faults.size(), 1u);
  EXPECT_NEAR(l.faults[0].t, kT0 + 52, 1e-6);
  EXPECT_NEAR(l.faults[0].cost_s, 53, 1e-6);
}

// Hang: step 4 starts at 31 and hangs until the watchdog (framework fault at 331) kills the
// attempt at 335. Restart at 400: restore(2) 400-410, steps 3,4 410-430.
// 430 s: kept 20 + 20, save 1, lost step 3 10, unfinished 31-335 = 304, restart gap 65,
// restore 10. infra = 365/430, framework = 40/365.
TEST(Ledger, HangUntilWatchdogKill) {
  LogBuilder b;
  b.add(0, "job_start").add(0, "attempt_start", "\"attempt\":1");
  b.step(0, 10, 1).step(10, 20, 2).save(20, 21, 2).step(21, 31, 3);
  b.add(31, "step_start", "\"step\":4");
  b.add(331, "fault", "\"cause\":\"watchdog: no progress for 300 s\",\"layer\":\"framework\"");
  b.add(335, "attempt_end", "\"attempt\":1,\"reason\":\"killed\"");
  b.add(400, "attempt_start", "\"attempt\":2").restore(400, 410, 2);
  b.step(410, 420, 3).step(420, 430, 4).add(430, "job_end", "\"status\":\"ok\"");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_DOUBLE_EQ(l.window_s, 430);
  EXPECT_NEAR(cat(l, "productive"), 40, 1e-6);
  EXPECT_NEAR(cat(l, "checkpoint_save"), 1, 1e-6);
  EXPECT_NEAR(cat(l, "lost_progress"), 10, 1e-6);
  EXPECT_NEAR(cat(l, "unfinished_step"), 304, 1e-6);
  EXPECT_NEAR(cat(l, "restart"), 65, 1e-6);
  EXPECT_NEAR(cat(l, "checkpoint_restore"), 10, 1e-6);
  EXPECT_NEAR(l.infra_goodput, 365.0 / 430, 1e-9);
  EXPECT_NEAR(l.framework_goodput, 40.0 / 365, 1e-9);
  ASSERT_EQ(l.faults.size(), 1u);
  // unfinished 304 + restart 65 + lost 10 + restore 10.
  EXPECT_NEAR(l.faults[0].cost_s, 389, 1e-6);
}

// Queueing: submitted at 0, allocated after an hour, started 5 min later, 10 steps of 60 s.
TEST(Ledger, QueueingBeforeAllocation) {
  LogBuilder b;
  b.add(0, "job_start").add(3600, "resources_allocated").add(3900, "attempt_start");
  for (int i = 0; i < 10; ++i) b.step(3900 + 60 * i, 3960 + 60 * i, i + 1);
  b.add(4500, "job_end");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "queueing"), 3600, 1e-6);
  EXPECT_NEAR(cat(l, "orchestration"), 300, 1e-6);
  EXPECT_NEAR(l.infra_goodput, 600.0 / 4500, 1e-9);
  EXPECT_NEAR(l.framework_goodput, 1.0, 1e-9);
}

// A job that crashes for good with no checkpoint keeps nothing.
TEST(Ledger, FinalCrashWithoutCheckpointLosesEverything) {
  LogBuilder b;
  b.add(0, "attempt_start").step(0, 10, 1).step(10, 20, 2);
  b.add(20, "fault", "\"cause\":\"OOM\",\"layer\":\"framework\"");
  b.add(21, "job_end", "\"status\":\"failed\"");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "productive"), 0, 1e-9);
  EXPECT_NEAR(cat(l, "lost_progress"), 20, 1e-6);
  EXPECT_DOUBLE_EQ(l.framework_goodput, 0);
}

TEST(Ledger, DuplicateStepInOneAttemptCountsTheEarlierRunAsLost) {
  LogBuilder b;
  b.add(0, "attempt_start").step(0, 10, 1).step(10, 20, 2).step(20, 30, 2).add(30, "job_end");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "productive"), 20, 1e-6);
  EXPECT_NEAR(cat(l, "lost_progress"), 10, 1e-6);
  EXPECT_FALSE(l.warnings.empty());
}

TEST(Ledger, MissingJobEndUsesTheLastEventAndSaysSo) {
  LogBuilder b;
  b.add(0, "attempt_start").step(0, 10, 1).step(10, 20, 2);
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_TRUE(l.job_end_inferred);
  EXPECT_DOUBLE_EQ(l.window_s, 20);
  EXPECT_NEAR(cat(l, "productive"), 20, 1e-6);  // still running: progress is not declared lost
  bool said = false;
  for (const auto& w : l.warnings) said |= w.message.find("no job_end") != std::string::npos;
  EXPECT_TRUE(said);
}

// Step times 10, 11, 9, 10, 10, 11, 9, 30: median 10, MAD 1, threshold 13: one slow step, +20 s.
TEST(Ledger, SlowStepsMedianPlusThreeMad) {
  LogBuilder b;
  b.add(0, "attempt_start");
  const double d[] = {10, 11, 9, 10, 10, 11, 9, 30};
  double t = 0;
  for (int i = 0; i < 8; ++i) {
    b.step(t, t + d[i], i + 1);
    t += d[i];
  }
  b.add(t, "job_end");
  const auto l = compute_ledger(b.parse(), {});
  ASSERT_TRUE(l.step_stats.has_value());
  EXPECT_DOUBLE_EQ(l.step_stats->median, 10);
  EXPECT_DOUBLE_EQ(l.step_stats->mad, 1);
  EXPECT_DOUBLE_EQ(l.slow_threshold_s, 13);
  EXPECT_EQ(l.slow_steps, 1u);
  EXPECT_DOUBLE_EQ(l.slow_excess_s, 20);
  ASSERT_EQ(l.slowest.size(), 1u);
  EXPECT_EQ(l.slowest[0].step, 8);
}

TEST(Ledger, DataStallsAndEvaluationAreTheirOwnCategories) {
  LogBuilder b;
  b.add(0, "attempt_start").step(0, 10, 1).phase(10, 12, "data").step(12, 22, 2);
  b.phase(22, 30, "eval").step(30, 40, 3).add(40, "job_end");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "data_stall"), 2, 1e-6);
  EXPECT_NEAR(cat(l, "phase:eval"), 8, 1e-6);
  EXPECT_NEAR(l.framework_goodput, 30.0 / 40, 1e-9);
}

TEST(Ledger, SvgAndReportMentionTheFault) {
  const auto log = fault_and_restore().parse();
  const auto l = compute_ledger(log, {});
  const std::string svg = render_svg(l);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("xid 79"), std::string::npos);
  const std::string text = format_report(l, log);
  EXPECT_NE(text.find("infra goodput"), std::string::npos);
  EXPECT_NE(text.find("xid 79"), std::string::npos);
}

TEST(Ledger, ModelLayerFromAnalysisDocument) {
  nlohmann::json doc = {{"analysis", {{"summary", {{"mfu", 0.41}}}}}};
  EXPECT_DOUBLE_EQ(*model_layer_from_analysis(doc, "a.json").mfu, 0.41);
  doc = {{"analysis", {{"steps", {{{"mfu", 0.3}}, {{"mfu", 0.5}}, {{"mfu", 0.4}}}}}}};
  EXPECT_DOUBLE_EQ(*model_layer_from_analysis(doc, "a.json").mfu, 0.4);
  doc = {{"analysis",
          {{"ranks",
            {{{"rank", 0}, {"steady_state", {{"mfu_median", 0.38}}}},
             {{"rank", 1}, {"steady_state", {{"mfu_median", 0.40}}}},
             {{"rank", 2}, {"steady_state", {{"mfu_median", 0.39}}}}}}}}};
  EXPECT_DOUBLE_EQ(*model_layer_from_analysis(doc, "a.json").mfu, 0.39);
  doc = {{"analysis", {{"summary", {{"mfu", 41}}}}}};
  EXPECT_THROW(model_layer_from_analysis(doc, "a.json"), InputError);
  EXPECT_THROW(model_layer_from_analysis(nlohmann::json::object(), "a.json"), InputError);
}

// The week-long example in examples/events: the README explains these numbers.
TEST(Ledger, WeekLongExample) {
  const std::string path = std::string(GOODPUT_EXAMPLES_DIR) + "/week_job.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  const auto log = read_event_logs({path}, {});
  const auto l = compute_ledger(log, {});
  EXPECT_NEAR(l.window_s, 7 * 86400, 1);
  EXPECT_GT(l.infra_goodput, 0.5);
  EXPECT_LT(l.infra_goodput, 1.0);
  EXPECT_EQ(l.faults.size(), 3u);
  double sum = 0;
  for (const auto& t : l.totals) sum += t.seconds;
  EXPECT_NEAR(sum, l.window_s, 1e-3);
}

namespace {

// Ranks 0 and 1 run steps 1-5 (10 s each) in attempts 1-3, from 0, 100 and 200 s; rank 1 logs a
// NaN 55 s into each; attempt 4 runs steps 1-8 from 300 to 380. Rank 1's clock is `skew` ahead.
LogBuilder restarts_from_step_one(bool attempt_fields, double skew = 0) {
  LogBuilder b;
  b.add(0, "job_start");
  for (int a = 1; a <= 4; ++a) {
    const double t0 = 100.0 * (a - 1);
    const std::string att = attempt_fields ? ",\"attempt\":" + std::to_string(a) : "";
    b.add(t0, "attempt_start", "\"attempt\":" + std::to_string(a));
    for (int r = 0; r < 2; ++r)
      for (int s = 1; s <= (a < 4 ? 5 : 8); ++s) {
        const double t = t0 + 10.0 * (s - 1) + (r == 1 ? skew : 0);
        b.add(t, "step_start", "\"step\":" + std::to_string(s) + att, r);
        b.add(t + 10, "step_end", "\"step\":" + std::to_string(s) + att, r);
      }
    if (a < 4) b.add(t0 + 55 + skew, "fault", "\"cause\":\"NaN\",\"layer\":\"model\"" + att, 1);
  }
  b.add(380, "attempt_end", "\"attempt\":4,\"reason\":\"completed\"");
  return b.add(380, "job_end", "\"status\":\"ok\"");
}

}  // namespace

// Step numbers repeat in every attempt: the clock check pairs rank 1's steps with rank 0's of the
// same attempt, so equal clocks give offset 0 (not the +100 s of attempt 2's step 1 against
// attempt 1's). 380 s: restart 3 x (55..100) = 135, lost 3 x 50 = 150, shutdown 3 x 5 = 15,
// kept attempt 4's 80. infra = 245 / 380, framework = 80 / 245.
TEST(Ledger, ClockSkewPairsStepsOfTheSameAttempt) {
  for (bool fields : {true, false})
    for (double skew : {0.0, 2.0}) {
      SCOPED_TRACE(std::string(fields ? "attempt fields" : "no attempt fields") + ", skew " +
                   std::to_string(skew));
      const auto log = restarts_from_step_one(fields, skew).parse();
      ASSERT_EQ(log.skew.size(), 1u);
      EXPECT_NEAR(log.skew[0].offset_s, skew, 1e-6);
      EXPECT_EQ(log.skew[0].matched_steps, 23u);  // 3 x 5 + 8
      const auto l = compute_ledger(log, {});
      EXPECT_DOUBLE_EQ(l.window_s, 380);
      EXPECT_NEAR(cat(l, "restart"), 135, 1e-6);
      EXPECT_NEAR(cat(l, "lost_progress"), 150, 1e-6);
      EXPECT_NEAR(cat(l, "shutdown"), 15, 1e-6);
      EXPECT_NEAR(cat(l, "productive"), 80, 1e-6);
      EXPECT_NEAR(cat(l, "queueing"), 0, 1e-9);
      EXPECT_NEAR(l.infra_goodput, 245.0 / 380, 1e-9);
      EXPECT_NEAR(l.framework_goodput, 80.0 / 245, 1e-9);
    }
}

// An infra fault while training carries on: steps 1-5 run 0-50 and all are kept; the fault at 15
// falls inside step 2, which finishes, so it costs nothing and did not end the attempt.
TEST(Ledger, InfraFaultDuringAStepThatFinishesCostsNothing) {
  LogBuilder b;
  b.add(0, "job_start").add(0, "attempt_start", "\"attempt\":1");
  for (int s = 1; s <= 5; ++s) b.step(10.0 * (s - 1), 10.0 * s, s);
  b.add(15, "fault", "\"cause\":\"ecc\",\"layer\":\"infra\"");
  b.add(50, "attempt_end", "\"reason\":\"completed\"").add(50, "job_end", "\"status\":\"ok\"");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "productive"), 50, 1e-6);
  EXPECT_NEAR(cat(l, "infra_fault"), 0, 1e-9);
  EXPECT_NEAR(l.infra_goodput, 1.0, 1e-9);
  ASSERT_EQ(l.attempts.size(), 1u);
  EXPECT_EQ(l.attempts[0].steps_kept, 5u);
  EXPECT_EQ(l.attempts[0].ended_by, "completed");
  ASSERT_EQ(l.faults.size(), 1u);
  EXPECT_NEAR(l.faults[0].cost_s, 0, 1e-9);
}

// No step starts after the fault, so it ended the attempt: steps 1-5 run 0-50, the fault at 45
// falls inside step 5, attempt 2 resumes from step 3 at 60 (steps 4-6, 60-90). 90 s: kept 30 + 30;
// lost steps 4-5 30-50 (20 s), of which 45-50 is the fault's; the restart gap 50-60 is too.
// infra_fault 15, lost_progress 15.
TEST(Ledger, InfraFaultDuringTheLastStepEndsTheAttempt) {
  LogBuilder b;
  b.add(0, "job_start").add(0, "attempt_start", "\"attempt\":1");
  for (int s = 1; s <= 5; ++s) b.step(10.0 * (s - 1), 10.0 * s, s);
  b.add(45, "fault", "\"cause\":\"xid\",\"layer\":\"infra\"");
  b.add(60, "attempt_start", "\"attempt\":2");
  for (int s = 4; s <= 6; ++s) b.step(20.0 + 10 * s, 30.0 + 10 * s, s);
  b.add(90, "job_end", "\"status\":\"ok\"");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "productive"), 60, 1e-6);
  EXPECT_NEAR(cat(l, "lost_progress"), 15, 1e-6);
  EXPECT_NEAR(cat(l, "infra_fault"), 15, 1e-6);
  ASSERT_EQ(l.attempts.size(), 2u);
  EXPECT_NE(l.attempts[0].ended_by.find("xid"), std::string::npos) << l.attempts[0].ended_by;
  ASSERT_EQ(l.faults.size(), 1u);
  EXPECT_NEAR(l.faults[0].cost_s, 30, 1e-6);  // 5 + 10 infra_fault, 15 lost
}

// Steps 0-10 and 10-20, an infra fault at 25, steps 3-4 run 40-60: the fault costs 25..40 (until
// the next step starts); 20..25 is a step gap. 60 s: kept 40, infra_fault 15, step_gap 5.
TEST(Ledger, InfraFaultLastsUntilTheNextStep) {
  LogBuilder b;
  b.add(0, "job_start").add(0, "attempt_start", "\"attempt\":1");
  b.step(0, 10, 1).step(10, 20, 2).step(40, 50, 3).step(50, 60, 4);
  b.add(25, "fault", "\"cause\":\"link flap\",\"layer\":\"infra\"");
  b.add(60, "attempt_end", "\"reason\":\"completed\"").add(60, "job_end", "\"status\":\"ok\"");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "productive"), 40, 1e-6);
  EXPECT_NEAR(cat(l, "infra_fault"), 15, 1e-6);
  EXPECT_NEAR(cat(l, "step_gap"), 5, 1e-6);
  EXPECT_NEAR(l.infra_goodput, 45.0 / 60, 1e-9);
  ASSERT_EQ(l.faults.size(), 1u);
  EXPECT_NEAR(l.faults[0].cost_s, 15, 1e-6);
}

// A fault while queueing: submitted 0, fault 5, allocated 10 (resources replaced), started 20,
// steps 20-70. 70 s: queueing 5, infra_fault 5, orchestration 10, kept 50.
TEST(Ledger, InfraFaultBeforeTheAttemptEndsAtTheAllocation) {
  LogBuilder b;
  b.add(0, "job_start").add(5, "fault", "\"cause\":\"node failed health check\"");
  b.add(10, "resources_allocated").add(20, "attempt_start", "\"attempt\":1");
  for (int s = 1; s <= 5; ++s) b.step(10.0 + 10 * s, 20.0 + 10 * s, s);
  b.add(70, "attempt_end", "\"reason\":\"completed\"").add(70, "job_end", "\"status\":\"ok\"");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "queueing"), 5, 1e-6);
  EXPECT_NEAR(cat(l, "infra_fault"), 5, 1e-6);
  EXPECT_NEAR(cat(l, "orchestration"), 10, 1e-6);
  EXPECT_NEAR(cat(l, "productive"), 50, 1e-6);
  ASSERT_EQ(l.attempts.size(), 1u);
  EXPECT_EQ(l.attempts[0].steps_kept, 5u);
  EXPECT_EQ(l.attempts[0].ended_by, "completed");
}

// Equal times are ordered by kind (attempt_start before step_start), then by file name and line,
// never by the order of the files on the command line. a.jsonl: rank 0's steps 1-3 (0-30) and,
// after a restart, 3-5 (60-90), no 'attempt' fields; b.jsonl: attempt 2 starts at 60, with step 3.
// 90 s: kept 20 + 30, lost step 3 of attempt 1 10, shutdown 30-35 5, restart 35-60 25.
// framework = 50 / 65.
TEST(Ledger, EqualTimesDoNotDependOnTheFileOrder) {
  LogBuilder a, b;
  a.step(0, 10, 1).step(10, 20, 2).step(20, 30, 3).step(60, 70, 3).step(70, 80, 4).step(80, 90, 5);
  b.add(0, "job_start").add(0, "attempt_start", "\"attempt\":1");
  b.add(35, "fault", "\"cause\":\"x\",\"layer\":\"framework\"");
  b.add(60, "attempt_start", "\"attempt\":2");
  b.add(90, "attempt_end", "\"reason\":\"completed\"").add(90, "job_end", "\"status\":\"ok\"");
  for (bool a_first : {true, false}) {
    SCOPED_TRACE(a_first ? "a.jsonl first" : "b.jsonl first");
    EventReader r({});
    r.read_text(a_first ? "a.jsonl" : "b.jsonl", a_first ? a.text() : b.text());
    r.read_text(a_first ? "b.jsonl" : "a.jsonl", a_first ? b.text() : a.text());
    const auto l = compute_ledger(r.finish(), {});
    EXPECT_NEAR(cat(l, "productive"), 50, 1e-6);
    EXPECT_NEAR(cat(l, "lost_progress"), 10, 1e-6);
    EXPECT_NEAR(cat(l, "restart"), 25, 1e-6);
    EXPECT_NEAR(l.framework_goodput, 50.0 / 65, 1e-9);
  }
}

// 70,000 custom phases of 1 s each, then one 10 s step: every phase is its own category (ids do
// not wrap at 65,536), 70,000 s of phases and 10 s kept.
TEST(Ledger, ManyPhaseNamesKeepTheirOwnCategories) {
  constexpr int kPhases = 70000;
  LogBuilder b;
  b.add(0, "attempt_start");
  for (int i = 0; i < kPhases; ++i) b.phase(i, i + 1, "p" + std::to_string(i));
  b.step(kPhases, kPhases + 10, 1).add(kPhases + 10, "job_end");
  const auto l = compute_ledger(b.parse(), {});
  EXPECT_NEAR(cat(l, "productive"), 10, 1e-6);
  double phases = 0;
  std::size_t names = 0;
  for (const auto& t : l.totals)
    if (t.category.rfind("phase:", 0) == 0) {
      phases += t.seconds;
      ++names;
    }
  EXPECT_EQ(names, static_cast<std::size_t>(kPhases));
  EXPECT_NEAR(phases, kPhases, 1e-6);
}

TEST(Ledger, EmptyLogNamesTheFile) {
  for (const std::string text : {"", " \n\t\n\n"}) {
    EventReader r({});
    r.read_text("empty.jsonl", text);
    try {
      compute_ledger(r.finish(), {});
      ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("empty.jsonl: the event log has no events"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(Ledger, MfuIsADecimalFractionOrPercentage) {
  EXPECT_DOUBLE_EQ(parse_mfu("0.42"), 0.42);
  EXPECT_DOUBLE_EQ(parse_mfu("42%"), 0.42);
  EXPECT_DOUBLE_EQ(parse_mfu("1"), 1.0);
  for (const char* bad : {"0x0.8", "0x1p-1", "0", "1.5", "", "%", " 0.4", "0.4 ", "nan", "inf"})
    EXPECT_THROW(parse_mfu(bad), InputError) << bad;
}
