// The profiler host API runs without a GPU: metric configuration and pass counts per chip. The
// range profiler itself (profiler/tracer/range_profiler.cpp) needs a device and is not run here.
#include "profiler/tracer/counters.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"

using namespace goodput;
using namespace goodput::trace;

TEST(Counters, FlopsSetIsOnePassOnHopper) {
  const auto c = configure_counters("GH100", counter_set_metrics("flops"));
  EXPECT_EQ(c.metrics.size(), 5u);
  EXPECT_TRUE(c.unavailable.empty());
  EXPECT_FALSE(c.config_image.empty());
  EXPECT_EQ(c.passes, 1u);  // one pass: collected per step without replaying kernels
}

TEST(Counters, MetricsTheChipLacksAreNamed) {
  const auto c = configure_counters(
      "GH100", {"sm__ops_path_tensor_src_bf16_dst_fp32.sum", "no_such__metric.sum"});
  EXPECT_EQ(c.metrics, std::vector<std::string>{"sm__ops_path_tensor_src_bf16_dst_fp32.sum"});
  EXPECT_EQ(c.unavailable, std::vector<std::string>{"no_such__metric.sum"});
  EXPECT_GE(c.passes, 1u);
}

TEST(Counters, LargerSetsNeedMorePasses) {
  // The fp16 tensor path on top of the flops set does not fit one pass on GH100.
  auto metrics = counter_set_metrics("flops");
  metrics.push_back("sm__ops_path_tensor_src_fp16.sum");
  const auto c = configure_counters("GH100", metrics);
  EXPECT_TRUE(c.unavailable.empty());
  EXPECT_GT(c.passes, 1u);
}

TEST(Counters, UnknownChipOrSetFails) {
  EXPECT_THROW(configure_counters("NOT_A_CHIP", counter_set_metrics("flops")), RuntimeFailure);
  EXPECT_THROW(configure_counters("GH100", {"no_such__metric.sum"}), RuntimeFailure);
  EXPECT_THROW(counter_set_metrics("cycles"), InputError);
}

TEST(Counters, SassSetIsOnePassOnHopperButNotBesideFlops) {
  const auto sass = configure_counters("GH100", counter_set_metrics("sass"));
  EXPECT_EQ(sass.metrics.size(), 9u);
  EXPECT_TRUE(sass.unavailable.empty());
  EXPECT_EQ(sass.passes, 1u);
  // Why the SASS instruction counters are a set of their own: with "flops" they need two passes,
  // and per-step collection cannot replay a step.
  auto both = counter_set_metrics("flops");
  both.push_back(counter_set_metrics("sass").front());
  EXPECT_GT(configure_counters("GH100", both).passes, 1u);
}

// Reading a counter data image needs the profiler interface, which only a device initialises:
// without one the reader fails with CUPTI's error text instead of crashing.
TEST(Counters, EvaluatingWithoutADeviceFailsCleanly) {
  const auto c = configure_counters("GH100", counter_set_metrics("flops"));
  const std::vector<std::uint8_t> image(4096, 0);
  try {
    evaluate_counter_data(c, image);
    FAIL() << "a counter data image was read without a device";
  } catch (const RuntimeFailure& e) {
    EXPECT_NE(std::string(e.what()).find("cuptiRangeProfilerGetCounterDataInfo: CUPTI_ERROR_"),
              std::string::npos)
        << e.what();
  }
}
