#include "profiler/trace_format/attribution.hpp"

#include <gtest/gtest.h>

using namespace goodput::trace;

namespace {
RangeRecord range(std::uint64_t id, std::string name, std::uint64_t tid, std::uint64_t s,
                  std::uint64_t e) {
  RangeRecord r;
  r.id = id;
  r.name = std::move(name);
  r.tid = tid;
  r.start_ns = s;
  r.end_ns = e;
  return r;
}
}  // namespace

TEST(Attribution, LaunchThreadAndTimeDecideTheRange) {
  Attribution a;
  a.add_launch({1, 110, 1});  // thread 1, inside the range
  a.add_launch({1, 120, 2});
  a.add_launch({2, 115, 3});  // another thread: not rule 1
  a.add_launch({1, 300, 4});  // after the range
  a.add_gpu({1, 0, 7, 150, 160});
  a.add_gpu({2, 0, 7, 160, 180});
  a.add_gpu({2, 0, 9, 165, 170});  // same launch, two activities (a graph)
  a.add_gpu({3, 0, 7, 181, 190});
  a.add_gpu({4, 0, 7, 310, 320});
  const auto spans = a.gpu_spans({range(10, "step", 1, 100, 200)});
  ASSERT_EQ(spans.size(), 2u);  // streams 7 and 9
  EXPECT_EQ(spans[0].stream, 7u);
  EXPECT_EQ(spans[0].start_ns, 150u);
  EXPECT_EQ(spans[0].end_ns, 180u);
  EXPECT_EQ(spans[0].count, 2u);
  EXPECT_EQ(spans[1].stream, 9u);
  EXPECT_EQ(spans[1].count, 1u);
  EXPECT_EQ(spans[1].range_id, 10u);
}

TEST(Attribution, StepsUseLaunchesThenGpuTime) {
  Attribution a;
  // step 0 on thread 1: [100, 200], its kernels run until 260
  a.add_launch({1, 110, 1});
  a.add_gpu({1, 0, 7, 150, 260});
  // a backward-thread kernel launched on thread 2, running at 240: step 0 by GPU time
  a.add_launch({2, 230, 2});
  a.add_gpu({2, 0, 8, 240, 250});
  // an activity with no launch record at 350: step 1 ([300, 400])
  a.add_gpu({99, 0, 8, 350, 355});
  // step 1
  a.add_launch({1, 310, 3});
  a.add_gpu({3, 0, 7, 320, 330});
  // outside every step
  a.add_gpu({98, 0, 7, 900, 910});
  const auto steps = a.steps({range(1, "step", 1, 100, 200), range(2, "step", 1, 300, 400)}, 5);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].index, 5);
  EXPECT_EQ(steps[0].activities_launched, 1u);
  EXPECT_EQ(steps[0].activities_by_gpu_time, 1u);
  EXPECT_EQ(*steps[0].gpu_start_ns, 150u);
  EXPECT_EQ(*steps[0].gpu_end_ns, 260u);
  EXPECT_EQ(steps[1].index, 6);
  EXPECT_EQ(steps[1].activities_launched, 1u);
  EXPECT_EQ(steps[1].activities_by_gpu_time, 1u);
  const auto j = to_json(steps[0], 100);
  EXPECT_DOUBLE_EQ(j["cpu_start_us"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["gpu_end_us"].get<double>(), 0.16);
}

TEST(Attribution, BoundedMemory) {
  Attribution a(3);
  a.add_launch({1, 1, 1});
  a.add_gpu({1, 0, 0, 1, 2});
  a.add_gpu({1, 0, 0, 3, 4});
  EXPECT_FALSE(a.overflowed());
  a.add_gpu({1, 0, 0, 5, 6});
  EXPECT_TRUE(a.overflowed());
  EXPECT_EQ(a.size(), 3u);
}
