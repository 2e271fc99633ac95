// GPU tests of the calibration kernels: each memory op and each GEMM dtype verifies and runs on a
// small size. Skipped without a usable GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "harness/core/error.hpp"
#include "harness/gpu/gpu.hpp"
#include "kernels/gemm.hpp"
#include "kernels/memory.hpp"
#include "kernels/reference.hpp"
#include "kernels/suite.hpp"

using namespace goodput;
using namespace goodput::kernels;

namespace {

std::optional<DeviceInfo> first_gpu(std::string& why) {
  try {
    return gpu::list_devices().at(0);
  } catch (const NoGpuError& e) {
    why = e.what();
    return std::nullopt;
  }
}

#define REQUIRE_GPU(dev)            \
  std::string why_;                 \
  const auto dev = first_gpu(why_); \
  if (!dev) GTEST_SKIP() << "no usable GPU: " << why_

MemoryGrid small_grid() {
  MemoryGrid g;
  g.blocks = 6;
  return g;
}

}  // namespace

TEST(MemoryWorkload, RejectsPartialGridPass) {
  MemoryConfig c;
  c.grid = small_grid();
  c.elements = grid_quantum(c.grid, 4) + 4;
  EXPECT_THROW(make_memory_workload(c), InputError);
  c.elements = 0;
  EXPECT_THROW(make_memory_workload(c), InputError);
}

TEST(MemoryWorkload, EveryOpVerifiesAndRuns) {
  REQUIRE_GPU(dev);
  for (MemoryOp op : memory_ops()) {
    MemoryConfig c;
    c.op = op;
    c.grid = small_grid();
    c.elements = 3 * grid_quantum(c.grid, 4);
    c.device = dev->index;
    auto w = make_memory_workload(c);
    ASSERT_NO_THROW(w->setup()) << w->name();
    const auto d = w->details();
    EXPECT_TRUE(d["verification"]["result"]["ok"].get<bool>()) << d.dump();
    for (int i = 0; i < 3; ++i) w->run(nullptr);
    EXPECT_NO_THROW(w->teardown());
  }
}

TEST(MemoryWorkload, SuiteSizesForThisGpu) {
  REQUIRE_GPU(dev);
  const auto suite = memory_suite(*dev, true);
  ASSERT_EQ(suite.size(), 5u);
  for (const auto& w : suite) EXPECT_GE(w->footprint_bytes(), 4 * dev->l2_bytes) << w->name();
  // The quick copy fits any GPU we calibrate: run it for real.
  auto& copy = suite[2];
  ASSERT_NO_THROW(copy->setup());
  copy->run(nullptr);
  copy->teardown();
}

TEST(GemmWorkload, RejectsBadProblem) {
  GemmConfig c;
  c.problem = {"square", 0, 4, 4};
  EXPECT_THROW(make_gemm_workload(c), InputError);
  c.problem = {"square", 4, 4, 4};
  c.sets = 0;
  EXPECT_THROW(make_gemm_workload(c), InputError);
}

TEST(GemmWorkload, EveryDtypeVerifiesAndRuns) {
  REQUIRE_GPU(dev);
  for (const DtypeInfo& d : gemm_dtypes()) {
    if (!dtype_supported(d, dev->cc_major, dev->cc_minor)) continue;
    GemmConfig c;
    c.dtype = d.id;
    c.problem = {"test", 512, 384, 320};  // non-square: a layout mix-up cannot pass
    c.device = dev->index;
    c.sets = 2;
    c.candidates = 4;
    c.tuning_runs = 3;
    c.small_sizes = {128, 256};
    auto w = make_gemm_workload(c);
    ASSERT_NO_THROW(w->setup()) << d.name;
    const auto det = w->details();
    EXPECT_GE(det["chosen"].get<int>(), 0) << d.name;
    EXPECT_GE(det["candidates"].size(), 1u);
    EXPECT_TRUE(det["verification"]["small"]["result"]["ok"].get<bool>()) << det.dump();
    EXPECT_TRUE(det["verification"]["sampled"]["result"]["ok"].get<bool>()) << det.dump();
    EXPECT_EQ(det["verification"]["sampled"]["result"]["checked"], 64);
    w->run(nullptr);
    w->rotate();
    w->run(nullptr);
    EXPECT_NO_THROW(w->teardown());
  }
}

TEST(GemmWorkload, Fp8FastAccumulationVerifies) {
  REQUIRE_GPU(dev);
  if (dev->cc_major * 10 + dev->cc_minor < 89) GTEST_SKIP() << "no fp8 before sm_89";
  GemmConfig c;
  c.dtype = GemmDtype::kFp8E4m3;
  c.problem = {"test", 1024, 768, 2048};
  c.device = dev->index;
  c.candidates = 4;
  c.fp8_fast_accum = true;
  auto w = make_gemm_workload(c);
  EXPECT_EQ(w->params()["fast_accum"], true);
  ASSERT_NO_THROW(w->setup());
  EXPECT_TRUE(w->details()["verification"]["sampled"]["result"]["ok"].get<bool>());
  w->teardown();
}

TEST(GemmWorkload, Fp8RefusedBelowSm89) {
  REQUIRE_GPU(dev);
  if (dev->cc_major * 10 + dev->cc_minor >= 89) GTEST_SKIP() << "this GPU supports fp8";
  GemmConfig c;
  c.dtype = GemmDtype::kFp8E4m3;
  c.problem = {"square", 256, 256, 256};
  auto w = make_gemm_workload(c);
  EXPECT_THROW(w->setup(), RuntimeFailure);
  w->teardown();
}

TEST(DeviceCodecs, MatchHostEncoders) {
  REQUIRE_GPU(dev);
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          448.0f,
                          460.0f,
                          1e6f,
                          -1e6f,
                          65504.0f,
                          65520.0f,
                          std::ldexp(1.0f, -10),
                          std::ldexp(1.0f, -9),
                          std::ldexp(1.0f, -25),
                          std::ldexp(3.0f, -25),
                          1.0625f,
                          1.1875f,
                          std::numeric_limits<float>::infinity()};
  for (int i = 0; i < 20000; ++i) {  // a wide spread of magnitudes and mantissas
    const double m = std::sin(i * 12.9898) * 43758.5453;
    v.push_back(static_cast<float>((m - std::floor(m) - 0.5) * std::ldexp(1.0, (i % 60) - 30)));
  }
  const auto f16 = device_encode("fp16", v, dev->index);
  const auto b16 = device_encode("bf16", v, dev->index);
  const auto e8 = device_encode("e4m3", v, dev->index);
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint16_t h, b;
    std::memcpy(&h, &f16[2 * i], 2);
    std::memcpy(&b, &b16[2 * i], 2);
    EXPECT_EQ(h, float_to_fp16(v[i])) << v[i];
    EXPECT_EQ(b, float_to_bf16(v[i])) << v[i];
    EXPECT_EQ(e8[i], float_to_e4m3(v[i])) << v[i];
  }
}
