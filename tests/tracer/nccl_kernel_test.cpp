#include "profiler/trace_format/nccl_kernel.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <set>
#include <string>

using namespace goodput::trace;

namespace {

NcclKernel parse(const std::string& name) {
  auto k = parse_nccl_kernel(name);
  EXPECT_TRUE(k.has_value()) << name;
  return k.value_or(NcclKernel{});
}

std::string read_maybe_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files too
  std::string out;
  if (!f) return out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

}  // namespace

TEST(NcclKernel, OldSpellingCollectiveAlgorithmProtocolReductionType) {
  const auto k =
      parse("ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*, unsigned long, ncclWork*)");
  EXPECT_EQ(k.collective, "all_reduce");
  EXPECT_EQ(k.algorithm, "ring");
  EXPECT_EQ(k.protocol, "ll");
  EXPECT_EQ(k.reduction, "sum");
  EXPECT_EQ(k.dtype, "f32");
  EXPECT_EQ(parse("ncclKernel_Broadcast_RING_LL_Sum_int8_t(ncclDevComm*, unsigned long, ncclWork*)")
                .dtype,
            "i8");
  const auto sr =
      parse("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t(ncclDevComm*, unsigned long, ncclWork*)");
  EXPECT_EQ(sr.collective, "send_recv");
  EXPECT_EQ(sr.protocol, "simple");
  const auto bf = parse("void ncclKernel_AllReduce_TREE_LL128_Sum___nv_bfloat16(ncclWorkElem)");
  EXPECT_EQ(bf.algorithm, "tree");
  EXPECT_EQ(bf.protocol, "ll128");
  EXPECT_EQ(bf.dtype, "bf16");
  EXPECT_EQ(parse("ncclKernel_AllReduce_RING_SIMPLE_Max_uint64_t").dtype, "u64");
  EXPECT_EQ(parse("ncclKernel_AllReduce_RING_SIMPLE_Sum___nv_fp8_e4m3").dtype, "f8e4m3");
}

TEST(NcclKernel, NewSpellingTypeBeforeAlgorithm) {
  const auto k = parse("ncclDevKernel_AllReduce_Sum_f32_RING_LL");
  EXPECT_EQ(k.collective, "all_reduce");
  EXPECT_EQ(k.reduction, "sum");
  EXPECT_EQ(k.dtype, "f32");
  EXPECT_EQ(k.algorithm, "ring");
  EXPECT_EQ(k.protocol, "ll");
  const auto ag = parse("ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)");
  EXPECT_EQ(ag.collective, "all_gather");
  EXPECT_EQ(ag.algorithm, "ring");
  EXPECT_EQ(ag.protocol, "ll");
  EXPECT_EQ(ag.dtype, "");
  EXPECT_EQ(ag.reduction, "");
  EXPECT_EQ(parse("ncclDevKernel_ReduceScatter_Sum_bf16_NVLS_SIMPLE").algorithm, "nvls");
  EXPECT_EQ(parse("ncclDevKernel_AllReduce_Sum_bf16_NVLS_TREE_SIMPLE").algorithm, "nvls_tree");
  const auto cn = parse("ncclDevKernel_AllReduce_PreMulSum_f16_COLLNET_DIRECT_LL128");
  EXPECT_EQ(cn.algorithm, "collnet_direct");
  EXPECT_EQ(cn.reduction, "pre_mul_sum");
  EXPECT_EQ(cn.protocol, "ll128");
  EXPECT_EQ(parse("ncclDevKernel_AllGather_PAT_SIMPLE").algorithm, "pat");
  EXPECT_EQ(parse("ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)").collective,
            "send_recv");
  const auto gen = parse("ncclDevKernel_Generic_1(ncclDevKernelArgsStorage<4096ul>)");
  EXPECT_EQ(gen.collective, "generic");
  EXPECT_EQ(gen.dtype, "");
}

TEST(NcclKernel, MangledNamesAreRecognised) {
  // CUPTI reports mangled names; the identifier is length-prefixed after _Z.
  const auto k =
      parse("_Z40ncclDevKernel_AllReduce_Sum_bf16_RING_LL24ncclDevKernelArgsStorageILm4096EE");
  EXPECT_EQ(k.collective, "all_reduce");
  EXPECT_EQ(k.dtype, "bf16");
  EXPECT_EQ(k.protocol, "ll");
}

TEST(NcclKernel, OtherNamesAreNotNccl) {
  EXPECT_FALSE(parse_nccl_kernel("nccl:all_reduce"));  // the CPU-side op, not a kernel
  EXPECT_FALSE(parse_nccl_kernel("void at::native::vectorized_elementwise_kernel<4, float>(int)"));
  EXPECT_FALSE(parse_nccl_kernel("ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_stages_32x5_nn"));
  EXPECT_FALSE(parse_nccl_kernel(""));
  EXPECT_FALSE(is_nccl_kernel("myncclKernel_AllReduce"));
}

TEST(NcclKernel, DtypeBytes) {
  EXPECT_EQ(dtype_bytes("bf16"), 2);
  EXPECT_EQ(dtype_bytes("f32"), 4);
  EXPECT_EQ(dtype_bytes("f8e5m2"), 1);
  EXPECT_EQ(dtype_bytes("u64"), 8);
  EXPECT_EQ(dtype_bytes("complex"), 0);
}

// Every NCCL kernel name in the real traces in ../shared/traces parses into known parts.
TEST(NcclKernel, RealTraceNamesParse) {
  const std::filesystem::path dir = std::filesystem::path(GOODPUT_SHARED_DIR) / "traces";
  if (!std::filesystem::is_directory(dir))
    GTEST_SKIP() << "shared traces not found at " << dir << " (expected ../shared beside the repo)";
  const std::set<std::string> collectives = {
      "all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce", "send_recv", "generic"};
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto p = e.path().string();
    if (p.find(".json") == std::string::npos) continue;
    // Kernel names are JSON strings starting with the NCCL prefix; a text scan is enough.
    const std::string text = read_maybe_gzip(p);
    for (const char* prefix : {"\"ncclKernel_", "\"ncclDevKernel_", "\"void ncclKernel_"}) {
      for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
        const auto end = text.find('"', at + 1);
        if (end == std::string::npos) break;
        names.insert(text.substr(at + 1, end - at - 1));
      }
    }
  }
  ASSERT_GE(names.size(), 4u) << "expected several distinct NCCL kernels in the shared traces";
  for (const auto& n : names) {
    const auto k = parse_nccl_kernel(n);
    ASSERT_TRUE(k) << n;
    EXPECT_TRUE(collectives.count(k->collective)) << n << " -> " << k->collective;
    EXPECT_FALSE(k->algorithm.empty()) << n;
    EXPECT_FALSE(k->protocol.empty()) << n;
  }
}

TEST(NcclKernel, CanonicalCollectiveAndDtypeFromEverySpelling) {
  // Kineto "Collective name" args, NCCL kernel words, and the tracer's own snake case.
  const std::pair<const char*, const char*> collectives[] = {
      {"allreduce", "all_reduce"},
      {"AllReduce", "all_reduce"},
      {"all_reduce", "all_reduce"},
      {"_allgather_base", "all_gather"},
      {"allgather_into_tensor_coalesced", "all_gather"},
      {"reduce_scatter_tensor_coalesced", "reduce_scatter"},
      {"ReduceScatter", "reduce_scatter"},
      {"all_to_all", "all_to_all"},
      {"alltoall_base", "all_to_all"},
      {"send", "send_recv"},
      {"recv", "send_recv"},
      {"SendRecv", "send_recv"},
      {"Reduce", "reduce"},
      {"broadcast", "broadcast"},
      {"barrier", "barrier"},
  };
  for (const auto& [in, out] : collectives) EXPECT_EQ(canonical_collective(in), out) << in;
  const std::pair<const char*, const char*> dtypes[] = {{"Float", "f32"},
                                                        {"BFloat16", "bf16"},
                                                        {"Half", "f16"},
                                                        {"Double", "f64"},
                                                        {"Long", "i64"},
                                                        {"Int", "i32"},
                                                        {"Byte", "u8"},
                                                        {"float", "f32"},
                                                        {"__nv_bfloat16", "bf16"},
                                                        {"f8e4m3", "f8e4m3"},
                                                        {"Float8_e4m3fn", "f8e4m3"},
                                                        {"c10::BFloat16", "bf16"},
                                                        {"torch.bfloat16", "bf16"},
                                                        {"c10::Float8_e5m2", "f8e5m2"},
                                                        {"ComplexFloat", ""}};
  for (const auto& [in, out] : dtypes) EXPECT_EQ(canonical_dtype(in), out) << in;
}
