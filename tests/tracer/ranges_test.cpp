#include "profiler/trace_format/ranges.hpp"

#include <gtest/gtest.h>

using namespace goodput::trace;

TEST(RangeRecorder, PushPopNestsPerThreadAndDomain) {
  RangeRecorder r;
  const auto a = r.push(1, "step", "", 100);
  const auto b = r.push(1, "forward", "", 110);
  r.push(2, "other thread", "", 115);
  r.push(1, "in a domain", "mydomain", 116);
  EXPECT_EQ(r.depth(1, ""), 2);
  EXPECT_EQ(r.depth(1, "mydomain"), 1);
  auto closed = r.pop(1, "", 150);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->id, b);
  EXPECT_EQ(closed->name, "forward");
  EXPECT_EQ(closed->depth, 1);
  EXPECT_EQ(closed->start_ns, 110u);
  EXPECT_EQ(closed->end_ns, 150u);
  closed = r.pop(1, "", 200);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->id, a);
  EXPECT_EQ(closed->depth, 0);
  EXPECT_FALSE(r.pop(1, "", 210));  // nothing open: counted, not a crash
  EXPECT_EQ(r.unbalanced(), 1u);
}

TEST(RangeRecorder, StartEndMayEndOnAnotherThread) {
  RangeRecorder r;
  const auto id = r.start(7, "data load", "", 10);
  auto closed = r.end(id, 30);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->tid, 7u);
  EXPECT_FALSE(closed->push_pop);
  EXPECT_FALSE(r.end(id, 40));
  EXPECT_EQ(r.unbalanced(), 1u);
}

TEST(RangeRecorder, OpenRangesAreClosedAtExitAndFlagged) {
  RangeRecorder r;
  r.push(1, "step", "", 5);
  r.start(2, "async", "", 6);
  auto open = r.close_all(99);
  ASSERT_EQ(open.size(), 2u);
  for (const auto& o : open) {
    EXPECT_FALSE(o.closed);
    EXPECT_EQ(o.end_ns, 99u);
  }
  EXPECT_TRUE(r.close_all(100).empty());
}

TEST(StepMarker, MatchesNameAndNumberedVariants) {
  EXPECT_TRUE(step_marker_matches("step", "step"));
  EXPECT_TRUE(step_marker_matches("step 12", "step"));
  EXPECT_TRUE(step_marker_matches("step#3", "step"));
  EXPECT_TRUE(step_marker_matches("ProfilerStep#5", "ProfilerStep"));
  EXPECT_FALSE(step_marker_matches("stepper", "step"));
  EXPECT_FALSE(step_marker_matches("step_fn", "step"));
  EXPECT_FALSE(step_marker_matches("Step", "step"));
  EXPECT_FALSE(step_marker_matches("train step", "step"));
  EXPECT_FALSE(step_marker_matches("step", ""));
}

TEST(StepWindow, RecordsEverythingWithoutSteps) {
  StepWindow w(std::nullopt, "step");
  EXPECT_TRUE(w.recording());
  EXPECT_EQ(w.on_range_start("step", 1, 10), StepWindow::Change::kNone);
  EXPECT_EQ(w.on_range_end(1, 20), StepWindow::Change::kNone);
  EXPECT_TRUE(w.overlaps(0, 1));
  EXPECT_EQ(w.steps_seen(), 1);
}

TEST(StepWindow, StartsAtStepAAndStopsAfterStepBMinusOne) {
  StepWindow w(StepSpan{1, 3}, "step");
  EXPECT_FALSE(w.recording());
  std::uint64_t t = 0;
  // steps 0..3, each [t, t+10], with a nested non-step range in each
  EXPECT_EQ(w.on_range_start("step", 100, t), StepWindow::Change::kNone);
  EXPECT_EQ(w.on_range_start("forward", 200, t + 1), StepWindow::Change::kNone);
  EXPECT_EQ(w.on_range_end(200, t + 5), StepWindow::Change::kNone);
  EXPECT_EQ(w.on_range_end(100, t + 10), StepWindow::Change::kNone);
  t = 20;
  EXPECT_EQ(w.on_range_start("step", 101, t), StepWindow::Change::kStart);
  EXPECT_TRUE(w.recording());
  EXPECT_EQ(w.on_range_end(101, t + 10), StepWindow::Change::kNone);
  t = 40;
  EXPECT_EQ(w.on_range_start("step", 102, t), StepWindow::Change::kNone);
  EXPECT_EQ(w.on_range_end(102, t + 10), StepWindow::Change::kStop);
  EXPECT_FALSE(w.recording());
  t = 60;
  EXPECT_EQ(w.on_range_start("step", 103, t), StepWindow::Change::kNone);
  EXPECT_EQ(w.on_range_end(103, t + 10), StepWindow::Change::kNone);
  EXPECT_EQ(w.steps_seen(), 4);
  EXPECT_EQ(*w.start_ns(), 20u);
  EXPECT_EQ(*w.stop_ns(), 50u);
  EXPECT_FALSE(w.overlaps(0, 10));
  EXPECT_TRUE(w.overlaps(15, 25));
  EXPECT_TRUE(w.overlaps(45, 55));
  EXPECT_FALSE(w.overlaps(60, 70));
  const auto j = w.to_json();
  EXPECT_EQ(j["requested"]["first"], 1);
  EXPECT_EQ(j["complete"], true);
}
