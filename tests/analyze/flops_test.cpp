// Per-op FLOPs from recorded shapes, and agreement with TraceLens's GEMM and SDPA reports on the
// real H100 traces (within 1 %).
#include <gtest/gtest.h>

#include "profiler/analyze/classify.hpp"
#include "profiler/analyze/flops.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

traceio::OpShapes op(std::vector<std::vector<std::int64_t>> dims,
                     std::vector<std::string> types = {}, std::vector<std::string> concrete = {}) {
  traceio::OpShapes o;
  o.input_dims = std::move(dims);
  o.input_types = std::move(types);
  o.concrete_inputs = std::move(concrete);
  return o;
}

TEST(OpFlops, Gemms) {
  auto mm = op_flops("aten::mm", op({{64, 128}, {128, 256}}, {"c10::BFloat16", "c10::BFloat16"}));
  ASSERT_TRUE(mm);
  EXPECT_DOUBLE_EQ(mm->flops, 2.0 * 64 * 256 * 128);
  EXPECT_EQ(mm->dtype, "bf16");
  auto addmm = op_flops("aten::addmm",
                        op({{256}, {64, 128}, {128, 256}, {}, {}}, {"float", "float", "float"}));
  EXPECT_DOUBLE_EQ(addmm->flops, 2.0 * 64 * 256 * 128 + 64 * 256);  // + bias
  EXPECT_EQ(addmm->dtype, "fp32");
  auto bmm = op_flops("aten::bmm", op({{8, 64, 32}, {8, 32, 16}}));
  EXPECT_DOUBLE_EQ(bmm->flops, 2.0 * 8 * 64 * 16 * 32);
  auto baddbmm = op_flops("aten::baddbmm", op({{8, 64, 16}, {8, 64, 32}, {8, 32, 16}}));
  EXPECT_DOUBLE_EQ(baddbmm->flops, 2.0 * 8 * 64 * 16 * 32 + 8 * 64 * 16);
  auto linear = op_flops("aten::linear", op({{4, 141, 512}, {2048, 512}, {2048}}));
  EXPECT_DOUBLE_EQ(linear->flops, 2.0 * 4 * 141 * 2048 * 512 + 4 * 141 * 2048);
  auto nobias = op_flops("aten::linear", op({{4, 141, 512}, {2048, 512}, {}}));
  EXPECT_DOUBLE_EQ(nobias->flops, 2.0 * 4 * 141 * 2048 * 512);
  auto matmul = op_flops("aten::matmul", op({{2, 8, 64, 32}, {2, 8, 32, 64}}));
  EXPECT_DOUBLE_EQ(matmul->flops, 2.0 * 16 * 64 * 64 * 32);
  // Batch dimensions broadcast as torch.matmul's do: [1,128,64] @ [8,64,80] is 8 products,
  // [8,1,128,64] @ [1,16,64,96] is 8 x 16 = 128, [128,64] @ [3,64,80] is 3.
  auto bcast = op_flops("aten::matmul", op({{1, 128, 64}, {8, 64, 80}}));
  EXPECT_DOUBLE_EQ(bcast->flops, 2.0 * 8 * 128 * 80 * 64);
  auto bcast4 = op_flops("aten::matmul", op({{8, 1, 128, 64}, {1, 16, 64, 96}}));
  EXPECT_DOUBLE_EQ(bcast4->flops, 2.0 * 128 * 128 * 96 * 64);
  auto mat_batched = op_flops("aten::matmul", op({{128, 64}, {3, 64, 80}}));
  EXPECT_DOUBLE_EQ(mat_batched->flops, 2.0 * 3 * 128 * 80 * 64);
  EXPECT_FALSE(op_flops("aten::matmul", op({{2, 128, 64}, {3, 64, 80}})));  // cannot broadcast
  EXPECT_FALSE(op_flops("aten::mm", op({{64, 128}})));
  EXPECT_FALSE(op_flops("aten::add", op({{64, 128}, {64, 128}})));
}

TEST(OpFlops, Attention) {
  const std::vector<std::vector<std::int64_t>> qkv = {
      {2, 8, 128, 64}, {2, 8, 256, 64}, {2, 8, 256, 64}};
  auto full = op_flops("aten::_scaled_dot_product_flash_attention",
                       op(qkv, {}, {"", "", "", "0.", "False", "False", ""}));
  ASSERT_TRUE(full);
  EXPECT_DOUBLE_EQ(full->flops, 4.0 * 2 * 8 * 128 * 256 * 64);
  auto causal = op_flops("aten::scaled_dot_product_attention",
                         op(qkv, {}, {"", "", "", "", "0.", "True", "", "False"}));
  EXPECT_DOUBLE_EQ(causal->flops, 2.0 * 2 * 8 * 128 * 256 * 64);
  EXPECT_TRUE(causal->causal);
  auto bwd_dims = qkv;
  bwd_dims.insert(bwd_dims.begin(), {2, 8, 128, 64});
  auto bwd = op_flops("aten::_scaled_dot_product_flash_attention_backward", op(bwd_dims));
  EXPECT_DOUBLE_EQ(bwd->flops, 2.5 * 4.0 * 2 * 8 * 128 * 256 * 64);
  // The kernel-level op takes [B, S, H, D].
  auto bshd = op_flops("aten::_flash_attention_forward",
                       op({{2, 128, 8, 64}, {2, 256, 8, 64}, {2, 256, 8, 64}}));
  EXPECT_DOUBLE_EQ(bshd->flops, 4.0 * 2 * 8 * 128 * 256 * 64);
}

// The memory-efficient kernels' ops name causality by an int custom_mask_type (1: from the top
// left, 2: from the bottom right), at argument 9 forward and 14 backward (15 is
// bias_requires_grad, which says nothing about the mask).
TEST(OpFlops, EfficientAttentionMaskType) {
  const std::vector<std::vector<std::int64_t>> bshd = {
      {2, 1024, 8, 64}, {2, 1024, 8, 64}, {2, 1024, 8, 64}};
  const double full = 4.0 * 2 * 8 * 1024 * 1024 * 64;
  auto fwd = [&](const std::string& mask) {
    std::vector<std::string> c(11, "");
    c[9] = mask;
    return op_flops("aten::_efficient_attention_forward", op(bshd, {}, c));
  };
  EXPECT_DOUBLE_EQ(fwd("0")->flops, full);
  EXPECT_DOUBLE_EQ(fwd("1")->flops, full / 2);
  EXPECT_DOUBLE_EQ(fwd("2")->flops, full / 2);
  auto bwd_dims = bshd;
  bwd_dims.insert(bwd_dims.begin(), {2, 1024, 8, 64});
  auto bwd = [&](const std::string& mask, const std::string& bias_grad) {
    std::vector<std::string> c(16, "");
    c[14] = mask;
    c[15] = bias_grad;
    return op_flops("aten::_efficient_attention_backward", op(bwd_dims, {}, c));
  };
  EXPECT_DOUBLE_EQ(bwd("1", "False")->flops, 2.5 * full / 2);
  EXPECT_DOUBLE_EQ(bwd("0", "True")->flops, 2.5 * full);
  EXPECT_TRUE(bwd("2", "False")->causal);
}

// Shapes come from any file: sizes that are not positive, or whose product leaves int64, give no
// FLOPs (two negative sizes once made a positive count, and a product past int64 was undefined).
TEST(OpFlops, ImpossibleShapesGiveNoFlops) {
  constexpr std::int64_t kHuge = std::int64_t{1} << 40;
  EXPECT_FALSE(op_flops("aten::linear", op({{-4, -2, 512}, {2048, 512}, {}})));
  EXPECT_FALSE(op_flops("aten::linear", op({{0, 141, 512}, {2048, 512}, {}})));
  EXPECT_FALSE(op_flops("aten::linear", op({{kHuge, kHuge, 512}, {2048, 512}, {}})));
  EXPECT_FALSE(op_flops("aten::matmul", op({{kHuge, kHuge, 64, 32}, {kHuge, kHuge, 32, 64}})));
  EXPECT_FALSE(op_flops("aten::scaled_dot_product_attention",
                        op({{kHuge, kHuge, 128, 64}, {kHuge, kHuge, 256, 64}, {2, 8, 256, 64}})));
  EXPECT_FALSE(op_flops("aten::scaled_dot_product_attention",
                        op({{2, 8, 128, 64}, {2, 8, 256, 64}, {2, 8, 256, -64}})));
  // Large but real: counted in double.
  const auto big =
      op_flops("aten::baddbmm", op({{1, 1, 1}, {1 << 20, 1 << 20, 8}, {1 << 20, 8, 1 << 20}}));
  ASSERT_TRUE(big);
  EXPECT_DOUBLE_EQ(big->flops, 2.0 * 0x1p20 * 0x1p20 * 0x1p20 * 8 + 0x1p60);
}

struct TraceLensCase {
  const char* trace;
  const char* report;
};

class TraceLensAgreement : public ::testing::TestWithParam<TraceLensCase> {};

TEST_P(TraceLensAgreement, GemmAndSdpaWithinOnePercent) {
  GOODPUT_REQUIRE_TRACE(path, GetParam().trace);
  const std::string dir = goodput::testing::traces_dir() + "/tracelens/";
  const auto t = traceio::read_trace(path);
  const Classifier c;
  const auto ops = link_op_flops(t, [&](traceio::NameId n) {
    const auto k = c.classify(t.names[n]);
    return k == KernelClass::kGemm || k == KernelClass::kAttention;
  });
  const auto table = shape_table(t, ops);
  std::size_t checked = 0;
  for (const char* kind : {"GEMM", "SDPA_fwd"}) {
    const auto rows = goodput::testing::read_csv(dir + GetParam().report + "__" + kind + ".csv");
    ASSERT_FALSE(rows.empty()) << "missing TraceLens report " << kind;
    for (const auto& r : rows) {
      const ShapeRow* hit = nullptr;
      for (const auto& s : table) {
        if (std::string(kind) == "GEMM" && s.op == r.at("name") &&
            std::to_string(s.m) == r.at("param: M") && std::to_string(s.n) == r.at("param: N") &&
            std::to_string(s.k) == r.at("param: K"))
          hit = &s;
        if (std::string(kind) == "SDPA_fwd" && s.op == r.at("name") &&
            std::to_string(s.m) == r.at("param: N_Q") && std::to_string(s.n) == r.at("param: N_KV"))
          hit = &s;
      }
      ASSERT_NE(hit, nullptr) << kind << " row " << r.at("name") << " not in our table";
      const double gflops = std::stod(r.at("GFLOPS_first"));
      const double tflops = std::stod(r.at("TFLOPS/s_mean"));
      EXPECT_NEAR(hit->gflops_per_call, gflops, 0.01 * gflops) << r.at("name");
      EXPECT_NEAR(hit->tflops_mean, tflops, 0.01 * tflops) << r.at("name");
      EXPECT_EQ(std::to_string(hit->calls), r.at("name_count")) << r.at("name");
      EXPECT_EQ(hit->dtype, "bf16");
      ++checked;
    }
  }
  EXPECT_GE(checked, 2u);
}

INSTANTIATE_TEST_SUITE_P(
    H100Traces, TraceLensAgreement,
    ::testing::Values(TraceLensCase{"gaunernst_bert-small-uncased__1016001.json.gz",
                                    "gaunernst_bert-small-uncased__1016001"},
                      TraceLensCase{"Falconsai_nsfw_image_detection__1016002.json.gz",
                                    "Falconsai_nsfw_image_detection__1016002"}),
    [](const auto& param_info) { return std::string(param_info.param.trace).substr(0, 9); });

}  // namespace
}  // namespace goodput::analyze
