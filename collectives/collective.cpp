#include "collectives/collective.hpp"

#include <algorithm>
#include <cmath>

#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) {
    return static_cast<char>(ch == '-' ? '_' : std::tolower(ch));
  });
  return s;
}

template <typename E>
std::string joined(const std::vector<E>& all) {
  std::string out;
  for (const auto e : all) out += (out.empty() ? "" : ", ") + std::string(to_string(e));
  return out;
}

}  // namespace

const std::vector<Coll>& all_collectives() {
  static const std::vector<Coll> v = {Coll::kAllReduce, Coll::kAllGather, Coll::kReduceScatter,
                                      Coll::kBroadcast, Coll::kReduce,    Coll::kAllToAll,
                                      Coll::kSendRecv};
  return v;
}

const char* to_string(Coll c) {
  switch (c) {
    case Coll::kAllReduce:
      return "all_reduce";
    case Coll::kAllGather:
      return "all_gather";
    case Coll::kReduceScatter:
      return "reduce_scatter";
    case Coll::kBroadcast:
      return "broadcast";
    case Coll::kReduce:
      return "reduce";
    case Coll::kAllToAll:
      return "alltoall";
    case Coll::kSendRecv:
      return "sendrecv";
  }
  return "?";
}

Coll parse_collective(const std::string& name) {
  const std::string n = lower(name);
  for (const auto c : all_collectives())
    if (n == to_string(c)) return c;
  if (n == "allreduce") return Coll::kAllReduce;
  if (n == "allgather") return Coll::kAllGather;
  if (n == "reducescatter") return Coll::kReduceScatter;
  if (n == "all_to_all") return Coll::kAllToAll;
  if (n == "send_recv") return Coll::kSendRecv;
  throw InputError("unknown collective '" + name + "' (one of " + joined(all_collectives()) +
                   ", or all)");
}

bool is_reduction(Coll c) {
  return c == Coll::kAllReduce || c == Coll::kReduceScatter || c == Coll::kReduce;
}
bool has_root(Coll c) {
  return c == Coll::kBroadcast || c == Coll::kReduce;
}

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> v = {DType::kFloat32,    DType::kBFloat16,   DType::kFloat16,
                                       DType::kFloat8E4M3, DType::kFloat8E5M2, DType::kInt8,
                                       DType::kInt32};
  return v;
}

const char* to_string(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "fp32";
    case DType::kBFloat16:
      return "bf16";
    case DType::kFloat16:
      return "fp16";
    case DType::kFloat8E4M3:
      return "fp8_e4m3";
    case DType::kFloat8E5M2:
      return "fp8_e5m2";
    case DType::kInt8:
      return "int8";
    case DType::kInt32:
      return "int32";
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  const std::string n = lower(name);
  for (const auto t : all_dtypes())
    if (n == to_string(t)) return t;
  if (n == "float" || n == "float32") return DType::kFloat32;
  if (n == "bfloat16") return DType::kBFloat16;
  if (n == "half" || n == "float16") return DType::kFloat16;
  if (n == "fp8" || n == "e4m3" || n == "f8e4m3") return DType::kFloat8E4M3;
  if (n == "e5m2" || n == "f8e5m2") return DType::kFloat8E5M2;
  if (n == "int") return DType::kInt32;
  throw InputError("unknown data type '" + name + "' (one of " + joined(all_dtypes()) + ")");
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kBFloat16:
    case DType::kFloat16:
      return 2;
    case DType::kFloat8E4M3:
    case DType::kFloat8E5M2:
    case DType::kInt8:
      return 1;
  }
  return 0;
}

bool is_floating(DType t) {
  return t != DType::kInt8 && t != DType::kInt32;
}

std::int64_t exact_integer_limit(DType t) {
  // 2^(mantissa bits + 1) for floating types; the type's range for integers.
  switch (t) {
    case DType::kFloat32:
      return std::int64_t{1} << 24;
    case DType::kBFloat16:
      return 256;
    case DType::kFloat16:
      return 2048;
    case DType::kFloat8E4M3:
      return 16;
    case DType::kFloat8E5M2:
      return 8;
    case DType::kInt8:
      return 127;
    case DType::kInt32:
      return 2147483647;
  }
  return 0;
}

const char* to_string(RedOp o) {
  switch (o) {
    case RedOp::kSum:
      return "sum";
    case RedOp::kAvg:
      return "avg";
    case RedOp::kMax:
      return "max";
    case RedOp::kMin:
      return "min";
  }
  return "?";
}

RedOp parse_op(const std::string& name) {
  const std::string n = lower(name);
  for (const auto o : {RedOp::kSum, RedOp::kAvg, RedOp::kMax, RedOp::kMin})
    if (n == to_string(o)) return o;
  throw InputError("unknown reduction op '" + name + "' (one of sum, avg, max, min)");
}

CollCounts coll_counts(Coll c, std::size_t requested_bytes, DType t, int nranks) {
  if (nranks < 1) throw InputError("rank count must be at least 1, got " + std::to_string(nranks));
  CollCounts k;
  k.elem_size = dtype_size(t);
  const std::size_t count = requested_bytes / k.elem_size;
  const auto n = static_cast<std::size_t>(nranks);
  switch (c) {
    case Coll::kAllReduce:
    case Coll::kBroadcast:
    case Coll::kReduce:
    case Coll::kSendRecv:
      k.send_count = k.recv_count = k.param_count = count;
      break;
    case Coll::kAllGather:
      k.send_count = count / n;
      k.recv_count = (count / n) * n;
      k.param_count = k.send_count;
      k.send_inplace_offset = count / n;
      break;
    case Coll::kReduceScatter:
      k.send_count = (count / n) * n;
      k.recv_count = count / n;
      k.param_count = k.recv_count;
      k.recv_inplace_offset = count / n;
      break;
    case Coll::kAllToAll:
      k.send_count = k.recv_count = (count / n) * n;
      k.param_count = count / n;
      break;
  }
  k.size_bytes = std::max(k.send_count, k.recv_count) * k.elem_size;
  return k;
}

double busbw_factor(Coll c, int nranks) {
  if (nranks < 1) throw InputError("rank count must be at least 1, got " + std::to_string(nranks));
  const double n = nranks;
  switch (c) {
    case Coll::kAllReduce:
      return 2.0 * (n - 1) / n;
    case Coll::kAllGather:
    case Coll::kReduceScatter:
    case Coll::kAllToAll:
      return (n - 1) / n;
    case Coll::kBroadcast:
    case Coll::kReduce:
    case Coll::kSendRecv:
      return 1.0;
  }
  return 0;
}

Bandwidth bandwidth(Coll c, std::size_t size_bytes, double seconds, int nranks) {
  if (!(seconds > 0) || !std::isfinite(seconds))
    throw InputError("collective time must be positive and finite, got " + std::to_string(seconds));
  Bandwidth b;
  b.algbw = static_cast<double>(size_bytes) / seconds;
  b.busbw = b.algbw * busbw_factor(c, nranks);
  return b;
}

}  // namespace goodput::collectives
