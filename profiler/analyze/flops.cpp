#include "profiler/analyze/flops.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "profiler/analyze/flat_index.hpp"

namespace goodput::analyze {
namespace {

using Dims = std::vector<std::int64_t>;

// The product of d[from, to), or 0 when a size is not positive or the product leaves int64
// (recorded shapes come from any file: two negative sizes must not make a positive count).
std::int64_t prod(const Dims& d, std::size_t from, std::size_t to) {
  std::int64_t p = 1;
  for (std::size_t i = from; i < to && i < d.size(); ++i)
    if (d[i] <= 0 || __builtin_mul_overflow(p, d[i], &p)) return 0;
  return p;
}

bool all_positive(const Dims& d) {
  return std::all_of(d.begin(), d.end(), [](std::int64_t x) { return x > 0; });
}

std::optional<OpFlops> gemm(std::int64_t b, std::int64_t m, std::int64_t n, std::int64_t k) {
  if (b <= 0 || m <= 0 || n <= 0 || k <= 0) return std::nullopt;
  OpFlops f;
  f.kind = "gemm";
  f.batch = b;
  f.m = m;
  f.n = n;
  f.k = k;
  f.flops = 2.0 * static_cast<double>(b) * static_cast<double>(m) * static_cast<double>(n) *
            static_cast<double>(k);
  return f;
}

bool concrete_true(const traceio::OpShapes& op, std::size_t index) {
  return index < op.concrete_inputs.size() &&
         (op.concrete_inputs[index] == "True" || op.concrete_inputs[index] == "1");
}

// The memory-efficient kernels take an int custom_mask_type: 0 none, 1 causal from the top
// left, 2 causal from the bottom right. Both mask about half of the scores.
bool causal_mask_type(const traceio::OpShapes& op, std::size_t index) {
  return index < op.concrete_inputs.size() &&
         (op.concrete_inputs[index] == "1" || op.concrete_inputs[index] == "2");
}

// The product of the batch dimensions of a and b (all but their last two) broadcast against
// each other as torch.matmul does, right-aligned; 0 when they cannot broadcast or a size is
// not positive.
std::int64_t broadcast_batch(const Dims& a, const Dims& b) {
  const std::size_t na = a.size() - 2, nb = b.size() - 2, n = std::max(na, nb);
  std::int64_t p = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t x = i < na ? a[na - 1 - i] : 1, y = i < nb ? b[nb - 1 - i] : 1;
    if (x <= 0 || y <= 0 || (x != y && x != 1 && y != 1)) return 0;
    if (__builtin_mul_overflow(p, std::max(x, y), &p)) return 0;
  }
  return p;
}

// Argument positions in each SDPA signature ("Concrete Inputs" records scalars). The
// public ops take [B, H, S, D]; the _flash/_efficient kernels' ops take [B, S, H, D].
struct SdpaOp {
  const char* name;
  std::size_t q_arg;       // index of query among the inputs
  std::size_t causal_arg;  // index of is_causal, or of the int custom_mask_type
  bool backward;
  bool bshd;       // [B, S, H, D] inputs
  bool mask_type;  // causal_arg is the int custom_mask_type
};
const SdpaOp kSdpaOps[] = {
    {"aten::scaled_dot_product_attention", 0, 5, false, false, false},
    {"aten::_scaled_dot_product_flash_attention", 0, 4, false, false, false},
    {"aten::_scaled_dot_product_efficient_attention", 0, 6, false, false, false},
    {"aten::_scaled_dot_product_cudnn_attention", 0, 6, false, false, false},
    {"aten::_scaled_dot_product_flash_attention_for_cpu", 0, 4, false, false, false},
    {"aten::_flash_attention_forward", 0, 8, false, true, false},
    {"aten::_efficient_attention_forward", 0, 9, false, true, true},
    {"aten::_scaled_dot_product_flash_attention_backward", 1, 11, true, false, false},
    {"aten::_scaled_dot_product_efficient_attention_backward", 1, 11, true, false, false},
    {"aten::_scaled_dot_product_cudnn_attention_backward", 1, 14, true, false, false},
    {"aten::_flash_attention_backward", 1, 11, true, true, false},
    {"aten::_efficient_attention_backward", 1, 14, true, true, true},
};

}  // namespace

std::string dtype_from_torch(const std::string& t) {
  static const std::map<std::string, std::string> m = {{"c10::BFloat16", "bf16"},
                                                       {"BFloat16", "bf16"},
                                                       {"c10::Half", "fp16"},
                                                       {"Half", "fp16"},
                                                       {"float", "fp32"},
                                                       {"Float", "fp32"},
                                                       {"double", "fp64"},
                                                       {"Double", "fp64"},
                                                       {"c10::Float8_e4m3fn", "fp8"},
                                                       {"c10::Float8_e5m2", "fp8"},
                                                       {"c10::Float8_e4m3fnuz", "fp8"},
                                                       {"c10::Float8_e5m2fnuz", "fp8"},
                                                       {"signed char", "int8"},
                                                       {"int8", "int8"}};
  auto it = m.find(t);
  return it == m.end() ? "" : it->second;
}

std::optional<OpFlops> op_flops(const std::string& name, const traceio::OpShapes& op) {
  const auto& d = op.input_dims;
  auto arg = [&](std::size_t i) -> const Dims& {
    static const Dims empty;
    return i < d.size() ? d[i] : empty;
  };
  std::optional<OpFlops> f;
  std::size_t dtype_arg = 0;
  if (name == "aten::mm" || name == "aten::_scaled_mm") {
    const Dims &a = arg(0), &b = arg(1);
    if (a.size() == 2 && b.size() == 2) f = gemm(1, a[0], b[1], a[1]);
  } else if (name == "aten::addmm") {
    const Dims &a = arg(1), &b = arg(2);
    if (a.size() == 2 && b.size() == 2) f = gemm(1, a[0], b[1], a[1]);
    if (f) f->flops += static_cast<double>(f->m) * static_cast<double>(f->n);  // + bias
    dtype_arg = 1;
  } else if (name == "aten::bmm") {
    const Dims &a = arg(0), &b = arg(1);
    if (a.size() == 3 && b.size() == 3) f = gemm(a[0], a[1], b[2], a[2]);
  } else if (name == "aten::baddbmm") {
    const Dims &a = arg(1), &b = arg(2);
    if (a.size() == 3 && b.size() == 3) f = gemm(a[0], a[1], b[2], a[2]);
    if (f)
      f->flops +=
          static_cast<double>(f->batch) * static_cast<double>(f->m) * static_cast<double>(f->n);
    dtype_arg = 1;
  } else if (name == "aten::linear") {
    const Dims &x = arg(0), &w = arg(1);
    if (x.size() >= 1 && w.size() == 2) f = gemm(1, prod(x, 0, x.size() - 1), w[0], w[1]);
    if (f && !arg(2).empty()) f->flops += static_cast<double>(f->m) * static_cast<double>(f->n);
  } else if (name == "aten::matmul") {
    const Dims &a = arg(0), &b = arg(1);
    if (a.size() >= 2 && b.size() == 2) {
      f = gemm(1, prod(a, 0, a.size() - 1), b[1], b[0]);
    } else if (a.size() >= 2 && b.size() >= 3) {
      f = gemm(broadcast_batch(a, b), a[a.size() - 2], b.back(), a.back());
    }
  } else {
    for (const auto& s : kSdpaOps) {
      if (name != s.name) continue;
      const Dims &q = arg(s.q_arg), &k = arg(s.q_arg + 1), &v = arg(s.q_arg + 2);
      if (q.size() != 4 || k.size() != 4 || !all_positive(q) || !all_positive(k) ||
          (v.size() == 4 && !all_positive(v)))
        break;
      const std::size_t hi = s.bshd ? 2 : 1, si = s.bshd ? 1 : 2;
      const std::int64_t b = q[0], h = q[hi], sq = q[si], dq = q[3], sk = k[si];
      const std::int64_t dv = v.size() == 4 ? v[3] : dq;
      std::int64_t bh = 0;
      if (__builtin_mul_overflow(b, h, &bh)) break;  // no real tensor: FLOPs unknown
      OpFlops a;
      a.kind = "attention";
      a.batch = bh;
      a.m = sq;
      a.n = sk;
      a.k = dq;
      a.causal = s.mask_type ? causal_mask_type(op, s.causal_arg) : concrete_true(op, s.causal_arg);
      a.backward = s.backward;
      double fwd = 2.0 * static_cast<double>(bh) * static_cast<double>(sq) *
                   static_cast<double>(sk) * (static_cast<double>(dq) + static_cast<double>(dv));
      if (a.causal) fwd /= 2;
      a.flops = s.backward ? 2.5 * fwd : fwd;
      f = a;
      dtype_arg = s.q_arg;
      break;
    }
  }
  if (f && dtype_arg < op.input_types.size())
    f->dtype = dtype_from_torch(op.input_types[dtype_arg]);
  return f;
}

std::vector<OpInstance> link_op_flops(const traceio::RankTrace& t,
                                      const std::function<bool(traceio::NameId)>& may_climb) {
  // Parent of each op on its thread: the nearest op whose interval encloses it.
  // Sorted by thread, start, longest first, on compact keys (not through the op records).
  struct Key {
    std::int64_t tid, ts, neg_dur;
    std::size_t idx;
    bool operator<(const Key& k) const {
      return std::tie(tid, ts, neg_dur, idx) < std::tie(k.tid, k.ts, k.neg_dur, k.idx);
    }
  };
  std::vector<Key> order(t.ops.size());
  for (std::size_t i = 0; i < t.ops.size(); ++i)
    order[i] = {t.ops[i].tid, t.ops[i].ts, -t.ops[i].dur, i};
  // Grouped by thread in file order first: most profilers write each thread's ops in start
  // order, and a thread already in order needs no sort.
  std::stable_sort(order.begin(), order.end(),
                   [](const Key& a, const Key& b) { return a.tid < b.tid; });
  for (auto b = order.begin(); b != order.end();) {
    const auto e = std::find_if(b, order.end(), [&](const Key& k) { return k.tid != b->tid; });
    if (!std::is_sorted(b, e)) std::sort(b, e);
    b = e;
  }
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> parent(t.ops.size(), kNone);
  std::vector<std::size_t> stack;
  for (const Key& key : order) {
    const std::size_t idx = key.idx;
    const auto& o = t.ops[idx];
    while (!stack.empty() &&
           (t.ops[stack.back()].tid != o.tid || t.ops[stack.back()].end() < o.end()))
      stack.pop_back();
    if (!stack.empty()) parent[idx] = stack.back();
    stack.push_back(idx);
  }
  FlatIndex<std::size_t> by_external;
  by_external.reserve(t.ops.size());
  for (std::size_t i = 0; i < t.ops.size(); ++i)
    if (t.ops[i].external_id >= 0 && !t.ops[i].annotation) by_external.add(t.ops[i].external_id, i);
  by_external.build();

  // An op's FLOPs depend only on its name and recorded shapes, both interned: cache by the pair.
  std::unordered_map<std::uint64_t, std::optional<OpFlops>> cache;
  auto flops_of = [&](std::size_t i) -> const std::optional<OpFlops>& {
    const auto& o = t.ops[i];
    const std::uint64_t key = (std::uint64_t{o.name} << 32) | o.shapes;
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, op_flops(t.names[o.name], t.shapes_of(o))).first;
    return it->second;
  };

  std::map<std::size_t, OpInstance> inst;
  std::map<std::size_t, std::int64_t> longest;
  for (const auto& g : t.gpu) {
    if (g.external_id < 0) continue;
    const std::size_t* op = by_external.find(g.external_id);
    if (!op) continue;
    std::size_t i = *op;
    // Climb past wrappers without shapes (aten::linear -> addmm is innermost; a cuBLAS call
    // under aten::matmul may sit below view ops).
    if (!flops_of(i) && may_climb(g.name))
      for (int depth = 0; depth < 4 && i != kNone && !flops_of(i); ++depth) i = parent[i];
    if (i == kNone || !flops_of(i)) continue;
    // Report attention under the SDPA backend op (aten::_scaled_dot_product_flash_attention),
    // not the kernel-level op below it, as profilers' op tables do.
    while (parent[i] != kNone && flops_of(parent[i]) &&
           t.names[t.ops[parent[i]].name].rfind("aten::_", 0) == 0 &&
           flops_of(parent[i])->kind == flops_of(i)->kind &&
           std::abs(flops_of(parent[i])->flops - flops_of(i)->flops) <= 1e-6 * flops_of(i)->flops)
      i = parent[i];
    auto& o = inst[i];
    if (o.kernels == 0) {
      o.op_index = i;
      o.flops = *flops_of(i);
    }
    o.kernel_ns += g.dur;
    ++o.kernels;
    if (g.dur > longest[i]) {
      longest[i] = g.dur;
      o.first_kernel = t.names[g.name];
    }
  }
  std::vector<OpInstance> out;
  out.reserve(inst.size());
  for (auto& [i, o] : inst) {
    o.peak_dtype = o.flops.dtype;
    if (o.peak_dtype == "fp32" && (o.first_kernel.find("tf32") != std::string::npos ||
                                   o.first_kernel.find("s1688") != std::string::npos))
      o.peak_dtype = "tf32";
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<ShapeRow> shape_table(const traceio::RankTrace& t, const std::vector<OpInstance>& ops) {
  using Key = std::tuple<std::string, std::string, std::int64_t, std::int64_t, std::int64_t,
                         std::int64_t, std::string>;
  std::map<Key, ShapeRow> rows;
  std::map<Key, double> tflops_sum, flops_sum;
  for (const auto& o : ops) {
    if (o.kernel_ns <= 0) continue;
    const auto& f = o.flops;
    const std::string op = t.names[t.ops[o.op_index].name];
    const Key key{op, f.kind, f.batch, f.m, f.n, f.k, o.peak_dtype};
    auto& r = rows[key];
    if (r.calls == 0) {
      r.op = op;
      r.kind = f.kind;
      r.dtype = o.peak_dtype;
      r.m = f.m;
      r.n = f.n;
      r.k = f.k;
      r.batch = f.batch;
      r.gflops_per_call = f.flops / 1e9;
      r.kernel = o.first_kernel;
    }
    ++r.calls;
    const double us = static_cast<double>(o.kernel_ns) / 1e3;
    r.kernel_us_sum += us;
    tflops_sum[key] += f.flops / (us * 1e-6) / 1e12;
    flops_sum[key] += f.flops;
  }
  std::vector<ShapeRow> out;
  for (auto& [key, r] : rows) {
    r.kernel_us_mean = r.kernel_us_sum / static_cast<double>(r.calls);
    r.tflops_mean = tflops_sum[key] / static_cast<double>(r.calls);
    r.tflops_total = flops_sum[key] / (r.kernel_us_sum * 1e-6) / 1e12;
    out.push_back(r);
  }
  // Ties keep the key order (op, kind, shape, dtype), whatever the order of the events.
  std::stable_sort(out.begin(), out.end(), [](const ShapeRow& a, const ShapeRow& b) {
    return a.kernel_us_sum > b.kernel_us_sum;
  });
  return out;
}

}  // namespace goodput::analyze
