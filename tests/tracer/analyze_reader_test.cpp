// The analyzer's trace reader (profiler/trace) reads what the tracer writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/analyze/analysis.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/tracer/test_util.hpp"

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

TEST(AnalyzeReader, UntracedTraceSaysWhyItIsEmpty) {
  // What the tracer writes when CUPTI refused: no events, and the reason.
  const std::string path = (goodput::test::temp_dir("untraced") / "trace.json").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        R"({"traceEvents": [], "goodput": {"schema": "goodput.trace", "schema_version": "1.0.0",
      "status": "untraced", "status_reason": "CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED: another profiler holds CUPTI",
      "capture": {"marker": "step"}}})",
        f);
    std::fclose(f);
  }
  const auto t = goodput::traceio::read_trace(path);
  EXPECT_EQ(t.format, "goodput");
  try {
    goodput::analyze::analyze({{&t, 0.0}}, {});
    FAIL() << "expected an InputError";
  } catch (const goodput::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("untraced"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another profiler holds CUPTI"), std::string::npos);
  }
}
