// Kernel classes on real kernel names from ../shared/traces, user rules, NCCL name parsing.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "harness/core/error.hpp"
#include "profiler/analyze/analysis.hpp"
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

TEST(Classifier, PrefilterDecidesRealNamesLikeTheRegex) {
  // The built-in rules settle most names by their sure fragments and needles; on every GPU name
  // of every real trace that must give the same class as always running the regex.
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

TEST(Classifier, SureFragmentsAreMatchesOfTheirRule) {
  // A sure fragment settles a match without the regex: the regex must match it wherever it
  // stands (inside other text, and at the start for those with a not-after set), and a
  // not-after character before it must leave the decision to the regex.
  const Classifier c;
  std::size_t fragments = 0;
  for (const auto& r : c.rules()) {
    for (const auto& f : r.sure) {
      ++fragments;
      EXPECT_TRUE(std::regex_search("x" + f.text + "x", r.re.get())) << r.pattern << ": " << f.text;
      EXPECT_TRUE(std::regex_search(f.text + "x", r.re.get())) << r.pattern << ": " << f.text;
      EXPECT_TRUE(f.found_in("x" + f.text)) << f.text;
      for (const char before : f.not_after) {
        EXPECT_FALSE(f.found_in(before + f.text)) << f.text;
        EXPECT_TRUE(f.found_in(before + f.text + "_x" + f.text)) << f.text;  // a later one
      }
    }
  }
  EXPECT_GT(fragments, 30u);
  EXPECT_EQ(c.classify("void fbgemm_gpu::permute_kernel<int>(int)"), KernelClass::kOther);
  EXPECT_EQ(c.classify("fbgemm_gpu::sgemm_kernel"), KernelClass::kGemm);  // "sgemm" after it
  EXPECT_EQ(c.classify("gemm_kernel"), KernelClass::kGemm);               // at the start
  EXPECT_EQ(c.classify("fbgemm_gpu::FlashAttnKernel"), KernelClass::kAttention);  // regex only
}

TEST(Classifier, PrefilterDecidesEveryAlternativeLikeTheRegex) {
  // Names built to reach each alternative of each built-in pattern, alone and after text that
  // only half-matches another (the regex alone decides them in without_prefilter()).
  const Classifier fast;
  const Classifier slow = fast.without_prefilter();
  const char* const parts[] = {"Memcpy HtoD",
                               "Memset (Device)",
                               "nccl_x",
                               "ncclKernel_x",
                               "ncclDevKernel_x",
                               "x_multimem_all_reduce",
                               "multimem_all_gather",
                               "multimem_reduce_scatter",
                               "multimem_one_shot",
                               "multimem_other",
                               "one_shot_all_reduce",
                               "two_shot_all_reduce",
                               "three_shot_all_reduce",
                               "cross_device_reduce",
                               "nvshmem_x",
                               "nvshmemi_x",
                               "nvshmemx",
                               "all_to_all_kernel",
                               "msccl",
                               "flash_fwd",
                               "flash_bwd",
                               "flash::x",
                               "FlashAttn",
                               "flashattn",
                               "Flashattn",
                               "flash_other",
                               "fmha",
                               "FMHA",
                               "my_attention_kernel",
                               "attn_fwd",
                               "attn_bwd",
                               "paged_attention",
                               "sdpa",
                               "cudnn_mha",
                               "MultiHeadAttention",
                               "multiheadattention",
                               "Multi_Head_Attention",
                               "xformers",
                               "gemm",
                               "sgemm",
                               "fbgemm",
                               "fbgemm_sgemm",
                               "GEMM",
                               "Gemm",
                               "gemv",
                               "wgmma",
                               "nvjet",
                               "cublas",
                               "cutlass_tensorop",
                               "cutlass_simt",
                               "tensorop",
                               "xmma",
                               "bmm_x",
                               "x_bmm_x",
                               "scudnn",
                               "implicit_convolve",
                               "splitKreduce",
                               "elementwise"};
  for (const char* a : parts) {
    for (const std::string before : {"", "x", "fb", "lash_", "attention_"}) {
      const std::string name = before + a;
      EXPECT_EQ(fast.classify(name), slow.classify(name)) << name;
    }
  }
}

TEST(Classifier, JobClassifiesEachEventLikeOneName) {
  // The job-wide classification (each distinct name once, spread over the cores) against the
  // event-by-event definition, on ranks that share names and one that does not.
  if (goodput::testing::traces_dir().empty()) GTEST_SKIP() << "../shared/traces not found";
  std::vector<traceio::RankTrace> traces;
  for (const char* f : {"sampled_rank-0.json.gz", "sampled_rank-1.json.gz", "nccl_data.json.gz"}) {
    const std::string path = goodput::testing::shared_trace(f);
    if (!path.empty()) traces.push_back(traceio::read_trace(path));
  }
  if (traces.size() < 3) GTEST_SKIP() << "sampled_rank-0/1 or nccl_data not found";
  const Classifier c;
  std::vector<const traceio::RankTrace*> job;
  for (const auto& t : traces) job.push_back(&t);
  const auto classes = classify_gpu_names(job, c);
  ASSERT_EQ(classes.size(), traces.size());
  std::size_t kernels = 0;
  for (std::size_t r = 0; r < traces.size(); ++r) {
    const auto& t = traces[r];
    ASSERT_EQ(classes[r].size(), t.names.size());
    for (const auto& g : t.gpu) {
      const KernelClass want = g.kind == traceio::GpuKind::kMemcpy   ? KernelClass::kMemcpy
                               : g.kind == traceio::GpuKind::kMemset ? KernelClass::kMemset
                                                                     : c.classify(t.names[g.name]);
      kernels += g.kind == traceio::GpuKind::kKernel;
      ASSERT_EQ(classes[r][g.name], want) << t.path << ": " << t.names[g.name];
    }
    EXPECT_EQ(classify_gpu_names(t, c), classes[r]) << t.path;
  }
  EXPECT_GT(kernels, 4000u);
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

// HTA's regexes (hta/utils/utils.py): ^nccl.*Kernel is communication, ^(Memcpy|Memset|dma)
// memory, and a name holding Memcpy or Sync anywhere else neither compute nor communication.
TEST(HtaType, MatchesHtaRules) {
  EXPECT_EQ(hta_type("ncclDevKernel_AllGather_RING_LL"), HtaType::kCommunication);
  EXPECT_EQ(hta_type("ncclKernel_AllReduce_RING_LL_Sum_float(ncclWorkElem)"),
            HtaType::kCommunication);
  EXPECT_EQ(hta_type("void foo::ncclKernel_x"), HtaType::kComputation);  // not at the start
  EXPECT_EQ(hta_type("nccl:all_reduce"), HtaType::kComputation);         // no "Kernel"
  EXPECT_EQ(hta_type("multimem_all_reduce_kernel"), HtaType::kComputation);
  EXPECT_EQ(hta_type("Memcpy HtoD"), HtaType::kMemory);
  EXPECT_EQ(hta_type("Memset (Device)"), HtaType::kMemory);
  EXPECT_EQ(hta_type("dma_copy"), HtaType::kMemory);
  EXPECT_EQ(hta_type("Stream Sync"), HtaType::kOther);
  EXPECT_EQ(hta_type("void batched_Memcpy_kernel"), HtaType::kOther);
}

}  // namespace
}  // namespace goodput::analyze
