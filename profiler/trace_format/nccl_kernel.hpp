// NCCL kernels recognised by name. NCCL encodes the collective, reduction, data type, algorithm
// and protocol in its kernel names; two spellings exist:
//   NCCL <= 2.18: ncclKernel_AllReduce_RING_LL_Sum_float(...)
//   NCCL >= 2.19: ncclDevKernel_AllReduce_Sum_f32_RING_LL(...), ncclDevKernel_AllGather_RING_LL
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace goodput::trace {

struct NcclKernel {
  std::string
      collective;  // all_reduce, all_gather, reduce_scatter, broadcast, reduce, send_recv, generic
  std::string
      algorithm;  // ring, tree, nvls, nvls_tree, collnet_direct, collnet_chain, pat; "" if absent
  std::string protocol;   // ll, ll128, simple; "" if absent
  std::string reduction;  // sum, prod, min, max, pre_mul_sum, sum_post_div; "" if absent
  std::string
      dtype;  // i8, u8, i32, u32, i64, u64, f16, bf16, f32, f64, f8e4m3, f8e5m2; "" if absent
};

// True for kernel names NCCL launches (demangled or mangled, with or without "void " and args).
bool is_nccl_kernel(std::string_view name);
// The parts of an NCCL kernel name; nullopt when the name is not an NCCL kernel.
std::optional<NcclKernel> parse_nccl_kernel(std::string_view name);
// The canonical collective (all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, reduce,
// send_recv, ...) from any spelling traces use: NCCL kernel words (AllReduce), PyTorch-profiler
// "Collective name" args (allreduce, _allgather_base, reduce_scatter_tensor_coalesced, send,
// recv) and goodput's own. Other names come back lower-cased.
std::string canonical_collective(std::string_view name);
// The canonical dtype code (f32, bf16, f16, f8e4m3, i8, ...) from NCCL's and PyTorch's spellings
// (float, __nv_bfloat16, Float, BFloat16, Half, Float8_e4m3fn, Long, ...); "" when unknown.
std::string canonical_dtype(std::string_view dtype);
// Bytes per element of a canonical dtype (i8 -> 1, bf16 -> 2, ...); 0 when unknown.
int dtype_bytes(std::string_view dtype);
nlohmann::json to_json(const NcclKernel& k);

}  // namespace goodput::trace
