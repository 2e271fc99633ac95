// Host usage per step: /proc/stat's stolen time, and one step's deltas.
#include "profiler/trace_format/host_usage.hpp"

#include <gtest/gtest.h>

using namespace goodput::trace;

TEST(HostUsage, StealIsTheEighthValueOfTheCpuLine) {
  EXPECT_EQ(proc_stat_steal_ticks("cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 2 3 4 5 6 7 8\n"),
            80u);
  EXPECT_EQ(proc_stat_steal_ticks("cpu  1 2 3 4 5 6 7 0 0 0"), 0u);
  EXPECT_FALSE(proc_stat_steal_ticks("cpu  1 2 3 4 5 6 7\n"));  // an old kernel: no steal field
  EXPECT_FALSE(proc_stat_steal_ticks("intr 1 2 3"));
  EXPECT_FALSE(proc_stat_steal_ticks(""));
}

TEST(HostUsage, StepDeltas) {
  HostUsage a, b;
  a.t_ns = 1'000'000'000;
  b.t_ns = 1'025'000'000;  // 25 ms
  a.process_cpu_ns = 5'000'000;
  b.process_cpu_ns = 35'000'000;  // 30 ms of CPU over all threads
  a.minor_faults = 10;
  b.minor_faults = 15;
  a.involuntary_switches = 3;
  b.involuntary_switches = 4;
  a.steal_ns = 100'000'000;
  b.steal_ns = 120'000'000;
  const auto j = step_usage_json(a, b, 6'000'000);
  EXPECT_DOUBLE_EQ(j["wall_ms"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(j["process_cpu_ms"].get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(j["tracer_cpu_ms"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(j["program_cpu_ms"].get<double>(), 24.0);
  EXPECT_EQ(j["minor_faults"], 5);
  EXPECT_EQ(j["involuntary_switches"], 1);
  EXPECT_DOUBLE_EQ(j["steal_ms"].get<double>(), 20.0);
  b.steal_ns.reset();
  EXPECT_TRUE(step_usage_json(a, b, 0)["steal_ms"].is_null());
}

TEST(HostUsage, SampleOfThisProcess) {
  const auto a = sample_host_usage();
  volatile double x = 0;
  for (int i = 0; i < 2'000'000; ++i) x = x + 1.0;  // some CPU time
  const auto b = sample_host_usage();
  EXPECT_GT(b.t_ns, a.t_ns);
  EXPECT_GT(b.process_cpu_ns, a.process_cpu_ns);
  EXPECT_TRUE(a.steal_ns.has_value());  // Linux with /proc
}
