#include "kernels/models.hpp"

#include <algorithm>

#include "harness/core/error.hpp"

namespace goodput::kernels {

const std::vector<MemoryOp>& memory_ops() {
  static const std::vector<MemoryOp> ops = {MemoryOp::kRead, MemoryOp::kWrite, MemoryOp::kCopy,
                                            MemoryOp::kTriad, MemoryOp::kMemcpy};
  return ops;
}

const char* to_string(MemoryOp op) {
  switch (op) {
    case MemoryOp::kRead:
      return "read";
    case MemoryOp::kWrite:
      return "write";
    case MemoryOp::kCopy:
      return "copy";
    case MemoryOp::kTriad:
      return "triad";
    case MemoryOp::kMemcpy:
      return "memcpy";
  }
  return "?";
}

MemoryTraffic memory_traffic(MemoryOp op) {
  switch (op) {
    case MemoryOp::kRead:
      return {1, 0};
    case MemoryOp::kWrite:
      return {0, 1};
    case MemoryOp::kCopy:
      return {1, 1};
    case MemoryOp::kTriad:
      return {2, 1};
    case MemoryOp::kMemcpy:
      return {1, 1};
  }
  return {};
}

int memory_arrays(MemoryOp op) {
  const MemoryTraffic t = memory_traffic(op);
  return t.reads + t.writes;
}

double memory_bytes(MemoryOp op, std::uint64_t elements, std::size_t element_bytes) {
  const MemoryTraffic t = memory_traffic(op);
  return static_cast<double>(t.reads + t.writes) * static_cast<double>(elements) *
         static_cast<double>(element_bytes);
}

int max_threads_per_sm(int cc_major, int cc_minor) {
  // CUDA programming guide, "Technical Specifications per Compute Capability".
  if (cc_major == 7 && cc_minor == 5) return 1024;
  if (cc_major == 8 && cc_minor > 0) return 1536;  // 8.6, 8.7, 8.9
  if (cc_major >= 12) return 1536;
  return 2048;  // 7.0, 8.0, 9.0, 10.x
}

MemoryGrid memory_grid(const DeviceInfo& dev) {
  MemoryGrid g;
  const int per_sm = std::max(1, max_threads_per_sm(dev.cc_major, dev.cc_minor) / g.threads);
  g.blocks = std::max(1, dev.sms) * per_sm;
  return g;
}

std::uint64_t grid_quantum(const MemoryGrid& g, std::size_t element_bytes) {
  if (g.blocks <= 0 || g.threads <= 0 || g.unroll <= 0 || element_bytes == 0 ||
      static_cast<std::size_t>(g.vector_bytes) % element_bytes != 0)
    throw InputError(
        "memory grid: blocks, threads and unroll must be positive and the vector "
        "a whole number of elements");
  return static_cast<std::uint64_t>(g.blocks) * static_cast<std::uint64_t>(g.threads) *
         static_cast<std::uint64_t>(g.unroll) *
         (static_cast<std::uint64_t>(g.vector_bytes) / element_bytes);
}

std::uint64_t memory_elements(std::uint64_t l2_bytes, std::uint64_t min_bytes, const MemoryGrid& g,
                              std::size_t element_bytes) {
  const std::uint64_t q = grid_quantum(g, element_bytes);
  const std::uint64_t bytes = std::max(4 * l2_bytes, min_bytes);
  const std::uint64_t elements = (bytes + element_bytes - 1) / element_bytes;
  return std::max<std::uint64_t>(1, (elements + q - 1) / q) * q;
}

std::uint64_t memory_min_bytes(bool quick) {
  return quick ? (256ull << 20) : (1ull << 30);
}

const std::vector<DtypeInfo>& gemm_dtypes() {
  // Tolerances: fp64/fp32 accumulate exactly enough that only summation order differs; tf32
  // rounds inputs to 10 mantissa bits inside the tensor core; fp16 output has 11 significant
  // bits, bf16 8; fp8 products are exact but Hopper accumulates them with reduced precision.
  // atol leaves room for split-K algorithms that add partial sums in the output type.
  static const std::vector<DtypeInfo> table = {
      {GemmDtype::kFp64, "fp64", "fp64_tensor", "fp64", "fp64", 8, 8, 8, 80, 1e-12, 1e-12, false},
      {GemmDtype::kFp32, "fp32", "fp32", "fp32", "fp32", 4, 4, 4, 80, 1e-5, 1e-5, false},
      {GemmDtype::kTf32, "tf32", "tf32", "fp32", "fp32", 4, 4, 4, 80, 4e-3, 4e-3, false},
      {GemmDtype::kFp16, "fp16", "fp16", "fp16", "fp16", 2, 2, 2, 80, 4e-3, 2e-3, true},
      {GemmDtype::kBf16, "bf16", "bf16", "bf16", "bf16", 2, 2, 2, 80, 1.6e-2, 1e-2, true},
      {GemmDtype::kFp8E4m3, "fp8_e4m3", "fp8", "e4m3", "bf16", 1, 1, 2, 89, 3e-2, 2e-2, true},
  };
  return table;
}

const DtypeInfo& dtype_info(GemmDtype id) {
  for (const auto& d : gemm_dtypes())
    if (d.id == id) return d;
  throw InputError("unknown GEMM dtype id");
}

const DtypeInfo& dtype_by_name(const std::string& name) {
  std::string known;
  for (const auto& d : gemm_dtypes()) {
    if (name == d.name) return d;
    known += known.empty() ? d.name : std::string(", ") + d.name;
  }
  throw InputError("unknown GEMM dtype '" + name + "' (known: " + known + ")");
}

bool dtype_supported(const DtypeInfo& d, int cc_major, int cc_minor) {
  return cc_major * 10 + cc_minor >= d.min_cc;
}

double gemm_flops(std::int64_t m, std::int64_t n, std::int64_t k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

double gemm_bytes(std::int64_t m, std::int64_t n, std::int64_t k, const DtypeInfo& d) {
  const auto md = static_cast<double>(m), nd = static_cast<double>(n), kd = static_cast<double>(k);
  return md * kd * static_cast<double>(d.a_bytes) + kd * nd * static_cast<double>(d.b_bytes) +
         md * nd * static_cast<double>(d.d_bytes);
}

double arithmetic_intensity(double flops, double bytes) {
  return bytes > 0 ? flops / bytes : 0;
}

std::vector<GemmProblem> square_problems(bool quick) {
  const std::vector<std::int64_t> sizes =
      quick ? std::vector<std::int64_t>{4096, 8192}
            : std::vector<std::int64_t>{1024, 2048, 4096, 8192, 16384};
  std::vector<GemmProblem> out;
  for (auto s : sizes) out.push_back({"square", s, s, s});
  return out;
}

std::vector<GemmProblem> llm_problems(bool quick) {
  if (quick) return {};
  struct Model {
    const char* name;
    std::int64_t hidden, kv_dim, ffn;  // kv_dim = KV heads x head dim (GQA)
  };
  // Llama 3 model cards: 8B hidden 4096, 8 KV heads x 128, FFN 14336; 70B 8192, 8 x 128, 28672.
  const Model models[] = {{"llama3-8b", 4096, 1024, 14336}, {"llama3-70b", 8192, 1024, 28672}};
  std::vector<GemmProblem> out;
  for (const auto& md : models) {
    for (std::int64_t tokens : {4096, 16384}) {
      const std::string t = "/t" + std::to_string(tokens);
      const std::string base = std::string(md.name) + "/";
      out.push_back({base + "qkv" + t, tokens, md.hidden + 2 * md.kv_dim, md.hidden});
      out.push_back({base + "attn_out" + t, tokens, md.hidden, md.hidden});
      out.push_back({base + "mlp_gate_up" + t, tokens, 2 * md.ffn, md.hidden});
      out.push_back({base + "mlp_down" + t, tokens, md.hidden, md.ffn});
    }
  }
  return out;
}

std::vector<GemmProblem> gemm_problems(const DtypeInfo& d, bool quick) {
  auto out = square_problems(quick);
  if (d.llm_shapes) {
    auto llm = llm_problems(quick);
    out.insert(out.end(), llm.begin(), llm.end());
  }
  return out;
}

std::uint64_t gemm_set_bytes(const GemmProblem& p, const DtypeInfo& d) {
  return static_cast<std::uint64_t>(gemm_bytes(p.m, p.n, p.k, d));
}

int rotation_sets(std::uint64_t l2_bytes, std::uint64_t set_bytes) {
  if (set_bytes == 0) throw InputError("GEMM buffer set of 0 bytes");
  const std::uint64_t need = 2 * l2_bytes;
  return static_cast<int>(std::max<std::uint64_t>(1, (need + set_bytes - 1) / set_bytes));
}

}  // namespace goodput::kernels
