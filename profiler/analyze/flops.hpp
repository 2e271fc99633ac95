// Executed FLOPs of GEMM and attention kernels from the shapes the launching op recorded
// ("Input Dims", "Input type"), and the per-shape GEMM table (like TraceLens's GEMM report).
// GEMM FLOPs = 2·M·N·K (per batch, + M·N for a bias as in addmm); attention forward
// = 4·B·H·Sq·Sk·D (half when causal), backward 2.5× forward.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

struct OpFlops {
  std::string kind;  // "gemm" or "attention"
  double flops = 0;
  std::int64_t m = 0, n = 0, k = 0, batch = 1;  // GEMM; for attention: m = Sq, n = Sk, k = D,
                                                // batch = B·H
  std::string dtype;                            // bf16, fp16, fp32, fp8, ... ("" when not recorded)
  bool causal = false;
  bool backward = false;
};

// FLOPs of one op from its name and recorded shapes; nullopt for ops we do not count or without
// shapes. Handles aten::mm, addmm, bmm, baddbmm, linear, matmul, scaled_dot_product_attention and
// the flash/efficient/cudnn SDPA variants and their backward ops.
std::optional<OpFlops> op_flops(const std::string& op_name, const traceio::OpShapes& op);

// "c10::BFloat16" -> "bf16", "float" -> "fp32", "c10::Half" -> "fp16", "c10::Float8_e4m3fn" ->
// "fp8"; "" when unknown.
std::string dtype_from_torch(const std::string& input_type);

// One GEMM/attention op instance with the GPU time of the kernels it launched.
struct OpInstance {
  std::size_t op_index = 0;  // into RankTrace::ops
  OpFlops flops;
  std::int64_t kernel_ns = 0;  // sum of its kernels' durations
  std::size_t kernels = 0;
  std::string first_kernel;  // name of its longest kernel
  std::string peak_dtype;    // dtype whose peak applies (tf32 when the kernel says so)
};

// Ops that launched GPU kernels, linked through "External id" (kernel -> innermost op). Kernels
// for which may_climb() is true (GEMM and attention kernels) climb to the nearest enclosing op
// with countable FLOPs on the same thread; others count only for the op that launched them, so an
// elementwise kernel under aten::linear never takes the GEMM's FLOPs.
std::vector<OpInstance> link_op_flops(const traceio::RankTrace& t,
                                      const std::function<bool(traceio::NameId)>& may_climb);

struct ShapeRow {
  std::string op, kind, dtype;
  std::int64_t m = 0, n = 0, k = 0, batch = 1;
  std::size_t calls = 0;
  double gflops_per_call = 0;
  double kernel_us_mean = 0, kernel_us_sum = 0;
  double tflops_mean = 0;   // mean over calls of flops / kernel time (TraceLens's TFLOPS/s_mean)
  double tflops_total = 0;  // total flops / total kernel time
  std::string kernel;
};

// Grouped by (op, kind, shape, dtype), sorted by total kernel time, largest first.
std::vector<ShapeRow> shape_table(const traceio::RankTrace& t, const std::vector<OpInstance>& ops);

}  // namespace goodput::analyze
