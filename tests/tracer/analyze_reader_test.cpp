// The analyzer's trace reader (profiler/trace) reads what the tracer writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness/core/results.hpp"
#include "profiler/trace/reader.hpp"

namespace fs = std::filesystem;

TEST(AnalyzeReader, ReadsTheGoldenTrace) {
  // The golden file is a complete tracer output (traceName aside).
  const std::string golden = std::string(GOODPUT_TRACER_TEST_DATA) + "/golden_trace.json";
  const auto t = goodput::traceio::read_trace(golden);
  ASSERT_EQ(t.gpu.size(), 3u);  // kernel, memcpy, memset
  std::size_t kernels = 0;
  for (const auto& g : t.gpu) {
    if (g.kind != goodput::traceio::GpuKind::kKernel) continue;
    ++kernels;
    EXPECT_EQ(g.correlation, 17);
    EXPECT_EQ(g.stream, 7);
    EXPECT_EQ(g.device, 0);
    EXPECT_EQ(g.dur, 2250);  // ns
    EXPECT_EQ(g.ts, 6000);
    EXPECT_EQ(g.grid[0], 32);
    ASSERT_NE(t.nccl_of(g), nullptr);
  }
  EXPECT_EQ(kernels, 1u);
  ASSERT_EQ(t.runtime.size(), 1u);
  EXPECT_EQ(t.runtime[0].correlation, 17);
  EXPECT_EQ(t.gpu_annotations.size(), 1u);
  ASSERT_TRUE(t.base_time_ns.has_value());
  EXPECT_EQ(*t.base_time_ns, 1'700'000'000'000'000'000ll);
  ASSERT_EQ(t.devices.size(), 1u);
  EXPECT_EQ(t.devices[0].sms, 132);
  std::size_t steps = 0;
  for (const auto& op : t.ops)
    if (op.annotation && t.names[op.name] == "step") ++steps;
  EXPECT_EQ(steps, 1u);
}
