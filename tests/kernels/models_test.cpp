#include "kernels/models.hpp"

#include <gtest/gtest.h>

#include <set>

#include "harness/core/error.hpp"
#include "kernels/suite.hpp"

using namespace goodput;
using namespace goodput::kernels;

namespace {
DeviceInfo h100() {
  DeviceInfo d;
  d.name = "NVIDIA H100 80GB HBM3";
  d.cc_major = 9;
  d.cc_minor = 0;
  d.sms = 132;
  d.l2_bytes = 50ull << 20;
  d.memory_bytes = 80ull << 30;
  return d;
}
}  // namespace

TEST(MemoryModel, BytesCountReadsPlusWrites) {
  const std::uint64_t n = 1000;
  EXPECT_DOUBLE_EQ(memory_bytes(MemoryOp::kRead, n, 4), 4000);
  EXPECT_DOUBLE_EQ(memory_bytes(MemoryOp::kWrite, n, 4), 4000);
  EXPECT_DOUBLE_EQ(memory_bytes(MemoryOp::kCopy, n, 4), 8000);
  EXPECT_DOUBLE_EQ(memory_bytes(MemoryOp::kTriad, n, 4), 12000);
  EXPECT_DOUBLE_EQ(memory_bytes(MemoryOp::kMemcpy, n, 8), 16000);
  EXPECT_EQ(memory_arrays(MemoryOp::kTriad), 3);
  EXPECT_EQ(memory_arrays(MemoryOp::kRead), 1);
  EXPECT_STREQ(to_string(MemoryOp::kTriad), "triad");
  EXPECT_EQ(memory_ops().size(), 5u);
}

TEST(MemoryModel, GridFillsEverySm) {
  const MemoryGrid g = memory_grid(h100());
  EXPECT_EQ(g.threads, 256);
  EXPECT_EQ(g.blocks, 132 * 8);  // 2048 resident threads per SM on sm_90
  DeviceInfo l40s = h100();
  l40s.cc_minor = 9;
  l40s.cc_major = 8;
  l40s.sms = 142;
  EXPECT_EQ(memory_grid(l40s).blocks, 142 * 6);  // 1536 on sm_89
  EXPECT_EQ(max_threads_per_sm(8, 0), 2048);
  EXPECT_EQ(max_threads_per_sm(10, 0), 2048);
  EXPECT_EQ(max_threads_per_sm(12, 0), 1536);
}

TEST(MemoryModel, BuffersAreFourTimesL2AndWholeGridPasses) {
  const MemoryGrid g = memory_grid(h100());
  const std::uint64_t q = grid_quantum(g, 4);
  EXPECT_EQ(q, 132ull * 8 * 256 * 4 * 4);
  // Tiny minimum: 4x L2 rules.
  const std::uint64_t n = memory_elements(50ull << 20, 0, g, 4);
  EXPECT_GE(n * 4, 4 * (50ull << 20));
  EXPECT_EQ(n % q, 0u);
  EXPECT_LT(n * 4 - 4 * (50ull << 20), q * 4);  // rounded up by less than one pass
  // Large minimum: the minimum rules.
  const std::uint64_t big = memory_elements(50ull << 20, memory_min_bytes(false), g, 4);
  EXPECT_GE(big * 4, 1ull << 30);
  EXPECT_EQ(big % q, 0u);
  EXPECT_LT(memory_min_bytes(true), memory_min_bytes(false));
  MemoryGrid bad = g;
  bad.blocks = 0;
  EXPECT_THROW(grid_quantum(bad, 4), InputError);
  bad = g;
  bad.vector_bytes = 6;
  EXPECT_THROW(grid_quantum(bad, 4), InputError);
}

TEST(GemmModel, FlopsBytesIntensity) {
  EXPECT_DOUBLE_EQ(gemm_flops(8192, 8192, 8192), 2.0 * 8192.0 * 8192.0 * 8192.0);
  EXPECT_DOUBLE_EQ(gemm_flops(2, 3, 4), 48);
  const DtypeInfo& bf16 = dtype_by_name("bf16");
  // A 2x4, B 4x3 in bf16 (2 bytes), D 2x3 in bf16: (8 + 12 + 6) * 2.
  EXPECT_DOUBLE_EQ(gemm_bytes(2, 3, 4, bf16), 52);
  const DtypeInfo& fp8 = dtype_by_name("fp8_e4m3");
  EXPECT_DOUBLE_EQ(gemm_bytes(2, 3, 4, fp8), 8 + 12 + 12);  // bf16 output
  // Square bf16 n^3: 2n^3 / (3 * 2 n^2) = n / 3.
  EXPECT_NEAR(
      arithmetic_intensity(gemm_flops(4096, 4096, 4096), gemm_bytes(4096, 4096, 4096, bf16)),
      4096.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(arithmetic_intensity(1, 0), 0);
}

TEST(GemmModel, DtypeTable) {
  std::set<std::string> names;
  for (const auto& d : gemm_dtypes()) names.insert(d.name);
  EXPECT_EQ(names, (std::set<std::string>{"fp64", "fp32", "tf32", "fp16", "bf16", "fp8_e4m3"}));
  EXPECT_FALSE(dtype_supported(dtype_by_name("fp8_e4m3"), 8, 0));
  EXPECT_FALSE(dtype_supported(dtype_by_name("fp8_e4m3"), 8, 6));
  EXPECT_TRUE(dtype_supported(dtype_by_name("fp8_e4m3"), 8, 9));
  EXPECT_TRUE(dtype_supported(dtype_by_name("fp8_e4m3"), 10, 0));
  EXPECT_TRUE(dtype_supported(dtype_by_name("bf16"), 8, 0));
  EXPECT_STREQ(dtype_by_name("fp64").peak_key, "fp64_tensor");
  EXPECT_STREQ(dtype_by_name("fp8_e4m3").peak_key, "fp8");
  EXPECT_STREQ(dtype_info(GemmDtype::kTf32).name, "tf32");
  EXPECT_THROW(dtype_by_name("int4"), InputError);
  // Tolerances get looser as precision drops.
  EXPECT_LT(dtype_by_name("fp64").rtol, dtype_by_name("fp32").rtol);
  EXPECT_LT(dtype_by_name("fp32").rtol, dtype_by_name("tf32").rtol);
  EXPECT_LT(dtype_by_name("fp16").rtol, dtype_by_name("bf16").rtol);
}

TEST(GemmModel, ProblemLists) {
  const auto full = square_problems(false);
  ASSERT_EQ(full.size(), 5u);
  EXPECT_EQ(full.front().m, 1024);
  EXPECT_EQ(full.back().k, 16384);
  const auto quick = square_problems(true);
  ASSERT_EQ(quick.size(), 2u);
  EXPECT_EQ(quick[0].n, 4096);
  EXPECT_EQ(quick[1].n, 8192);

  const auto llm = llm_problems(false);
  EXPECT_EQ(llm.size(), 16u);  // 2 models x 2 token counts x 4 projections
  EXPECT_TRUE(llm_problems(true).empty());
  auto find = [&](const std::string& label) {
    for (const auto& p : llm)
      if (p.label == label) return p;
    ADD_FAILURE() << "missing " << label;
    return GemmProblem{};
  };
  const auto qkv = find("llama3-8b/qkv/t4096");
  EXPECT_EQ(qkv.m, 4096);
  EXPECT_EQ(qkv.n, 4096 + 2 * 1024);
  EXPECT_EQ(qkv.k, 4096);
  const auto up = find("llama3-70b/mlp_gate_up/t16384");
  EXPECT_EQ(up.m, 16384);
  EXPECT_EQ(up.n, 2 * 28672);
  EXPECT_EQ(up.k, 8192);
  const auto down = find("llama3-8b/mlp_down/t16384");
  EXPECT_EQ(down.n, 4096);
  EXPECT_EQ(down.k, 14336);

  EXPECT_EQ(gemm_problems(dtype_by_name("bf16"), false).size(), 21u);
  EXPECT_EQ(gemm_problems(dtype_by_name("fp64"), false).size(), 5u);
  EXPECT_EQ(gemm_problems(dtype_by_name("fp8_e4m3"), true).size(), 2u);
}

TEST(GemmModel, RotationCoversTwiceL2) {
  const std::uint64_t l2 = 50ull << 20;
  const DtypeInfo& bf16 = dtype_by_name("bf16");
  const GemmProblem small{"square", 1024, 1024, 1024};
  const std::uint64_t set = gemm_set_bytes(small, bf16);
  EXPECT_EQ(set, 3ull * 1024 * 1024 * 2);
  const int sets = rotation_sets(l2, set);
  EXPECT_GE(static_cast<std::uint64_t>(sets) * set, 2 * l2);
  EXPECT_LT(static_cast<std::uint64_t>(sets - 1) * set, 2 * l2);  // no more than needed
  EXPECT_EQ(rotation_sets(l2, gemm_set_bytes({"square", 8192, 8192, 8192}, bf16)), 1);
  EXPECT_THROW(rotation_sets(l2, 0), InputError);
}

TEST(Suites, HostBuildOrDeviceDescribedWithoutAllocating) {
  // Constructing the suites allocates nothing on the device, so this runs anywhere.
  const auto mem = memory_suite(h100(), true);
  const auto gemm = gemm_suite(h100(), true);
  if (mem.empty()) {
    EXPECT_TRUE(gemm.empty());
    GTEST_SKIP() << "host-only build: the suites are empty";
  }
  ASSERT_EQ(mem.size(), 5u);
  EXPECT_EQ(mem[0]->name(), "memory/read");
  EXPECT_EQ(mem[3]->name(), "memory/triad");
  for (const auto& w : mem) {
    EXPECT_EQ(w->kind(), "memory");
    EXPECT_GE(w->footprint_bytes(), 4 * (50ull << 20));
    EXPECT_GT(w->bytes_per_run(), 0);
  }
  EXPECT_DOUBLE_EQ(mem[3]->bytes_per_run(), 3 * mem[3]->params()["array_bytes"].get<double>());
  // Quick: 6 dtypes on sm_90, squares 4096 and 8192 only.
  ASSERT_EQ(gemm.size(), 12u);
  EXPECT_EQ(gemm[0]->name(), "gemm/fp64/4096x4096x4096");
  EXPECT_DOUBLE_EQ(gemm[0]->flops_per_run(), gemm_flops(4096, 4096, 4096));
  EXPECT_EQ(gemm.back()->params()["dtype"], "fp8_e4m3");
  EXPECT_EQ(gemm.back()->params()["layout"], "TN");
  DeviceInfo a100 = h100();
  a100.cc_major = 8;
  a100.sms = 108;
  EXPECT_EQ(gemm_suite(a100, true).size(), 10u);  // no fp8 on sm_80
  EXPECT_EQ(gemm_suite(h100(), false).size(), 5u * 3 + 21u * 3);
}
