// Kernel classes on real kernel names from ../shared/traces, user rules, NCCL name parsing.
#include <gtest/gtest.h>

#include "harness/core/error.hpp"
#include "profiler/analyze/classify.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

TEST(Classifier, RealKernelNames) {
  const Classifier c;
  const std::pair<const char*, KernelClass> cases[] = {
      {"ncclKernel_AllReduce_RING_LL_Sum_float(ncclWorkElem)", KernelClass::kCommunication},
      {"ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
       KernelClass::kCommunication},
      {"void (anonymous namespace)::multimem_all_reduce_kernel<c10::BFloat16, 16>(c10::BFloat16*, "
       "unsigned long)",
       KernelClass::kCommunication},
      {"volta_sgemm_128x32_nt", KernelClass::kGemm},
      {"sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize64x64x64_warpgroupsize1x1x1_execute_"
       "segment_k_off_kernel__5x_cublas",
       KernelClass::kGemm},
      {"void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x6_tn_align8>"
       "(cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x6_tn_align8::Params)",
       KernelClass::kGemm},
      {"nvjet_tst_64x64_64x16_2x1_2cta_v_bz_bias_TNT", KernelClass::kGemm},
      {"bmm_MxE4m3_MxE2m1MxE4m3_Fp32_t128x16x256u2_s3_et128x16_m128x16x32", KernelClass::kGemm},
      {"void pytorch_flash::flash_fwd_kernel<pytorch_flash::Flash_fwd_kernel_traits<64, 128, 128, "
       "4, false, false, cutlass::bfloat16_t>>(pytorch_flash::Flash_fwd_params)",
       KernelClass::kAttention},
      {"fmhaSm100aKernel_QkvE4m3OBfloat16H64PagedKvCausalP16VarSeqQ128Kv128PersistentContext",
       KernelClass::kAttention},
      {"void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, "
       "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>)",
       KernelClass::kOther},
      {"void cudnn::bn_bw_1C11_kernel_new<float, float, float2, 512, true, 1>(float)",
       KernelClass::kOther},
      {"void split_embedding_codegen_forward_unweighted_kernel<c10::Half, c10::Half, float, false, "
       "long, 2ul, 32ul>(at::GenericPackedTensorAccessor<c10::Half, 1ul>, "
       "fbgemm_gpu::FixedDivisor)",
       KernelClass::kOther},
      {"void fbgemm_gpu::permute_2D_lengths_kernel<int>(int, int, int const*, int const*, int*)",
       KernelClass::kOther},
      {"Memcpy DtoD (Device -> Device)", KernelClass::kMemcpy},
      {"Memset (Device)", KernelClass::kMemset},
  };
  for (const auto& [name, cls] : cases)
    EXPECT_EQ(c.classify(name), cls) << name << " -> " << to_string(c.classify(name));
}

TEST(Classifier, NeedlesLoseNoMatchOnRealNames) {
  // The built-in rules skip their regex when a name holds none of the rule's needles; on every
  // GPU name of every real trace that must give the same class as always running the regex.
  if (goodput::testing::traces_dir().empty()) GTEST_SKIP() << "../shared/traces not found";
  const Classifier fast;
  const Classifier slow = fast.without_prefilter();
  std::size_t names = 0;
  for (const char* f : {"nccl_data.json.gz", "sampled_rank-0.json.gz", "df_index_resolver.json.gz",
                        "eager_trace.json.gz", "worker0.pt.trace.json.gz",
                        "Falconsai_nsfw_image_detection__1016002.json.gz",
                        "dc3b0e7228dd_851.1752215573993169006.pt.trace.json",
                        "rank-0.Apr_03_18_51_38.1102.pt.trace.json.gz"}) {
    const std::string path = goodput::testing::shared_trace(f);
    if (path.empty()) continue;
    const auto t = traceio::read_trace(path);
    std::vector<char> seen(t.names.size(), 0);
    for (const auto& g : t.gpu) {
      if (seen[g.name]++) continue;
      ++names;
      const std::string& n = t.names[g.name];
      EXPECT_EQ(fast.classify(n), slow.classify(n)) << f << ": " << n;
    }
  }
  EXPECT_GT(names, 200u);
}

TEST(Classifier, BaseName) {
  EXPECT_EQ(
      kernel_base_name("void (anonymous namespace)::multimem_all_reduce_kernel<c10::BFloat16, "
                       "16>(c10::BFloat16*, unsigned long)"),
      "{anonymous}::multimem_all_reduce_kernel<c10::BFloat16, 16>");
  EXPECT_EQ(kernel_base_name("volta_sgemm_128x32_nt"), "volta_sgemm_128x32_nt");
}

TEST(Classifier, UserRulesComeFirst) {
  Classifier c;
  EXPECT_EQ(c.classify("my_fused_allreduce_kernel"), KernelClass::kOther);
  const auto path = goodput::testing::write_temp(
      "# site rules\ncommunication  fused_allreduce\n\ngemm ^triton_.*mm\n", false, ".rules");
  c.add_rules_file(path);
  EXPECT_EQ(c.classify("my_fused_allreduce_kernel"), KernelClass::kCommunication);
  EXPECT_EQ(c.classify("triton_tem_fused_mm_0"), KernelClass::kGemm);
  EXPECT_EQ(c.classify("volta_sgemm_128x32_nt"), KernelClass::kGemm);
}

TEST(Classifier, BadRulesFileNamesLine) {
  Classifier c;
  auto msg = [&](const std::string& text) {
    try {
      c.add_rules_file(goodput::testing::write_temp(text, false, ".rules"));
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg("gemm ok\nbogus x\n").find(".rules:2"), std::string::npos);
  EXPECT_NE(msg("gemm (unclosed\n").find("bad regex"), std::string::npos);
  EXPECT_NE(msg("gemm\n").find("expected"), std::string::npos);
  EXPECT_THROW(c.add_rules_file("/nonexistent/rules"), InputError);
}

TEST(HtaType, MatchesHtaRules) {
  EXPECT_EQ(hta_type("ncclDevKernel_AllGather_RING_LL"), HtaType::kCommunication);
  EXPECT_EQ(hta_type("void foo::ncclKernel_x"), HtaType::kCommunication);
  EXPECT_EQ(hta_type("multimem_all_reduce_kernel"), HtaType::kComputation);
  EXPECT_EQ(hta_type("Memcpy HtoD"), HtaType::kMemory);
}

}  // namespace
}  // namespace goodput::analyze
