// Collective descriptors and the bandwidth model, host-only. Byte counts and the bus-bandwidth
// factors follow nccl-tests (src/*.cu, doc/PERFORMANCE.md) so that numbers compare one to one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace goodput::collectives {

enum class Coll {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kBroadcast,
  kReduce,
  kAllToAll,
  kSendRecv
};
const std::vector<Coll>& all_collectives();
const char* to_string(Coll c);
Coll parse_collective(const std::string& name);  // InputError naming the accepted names
bool is_reduction(Coll c);                       // all_reduce, reduce_scatter, reduce
bool has_root(Coll c);                           // broadcast, reduce

enum class DType { kFloat32, kBFloat16, kFloat16, kFloat8E4M3, kFloat8E5M2, kInt8, kInt32 };
const std::vector<DType>& all_dtypes();
const char* to_string(DType t);
DType parse_dtype(const std::string& name);  // also nccl-tests spellings: float, half, bfloat16
std::size_t dtype_size(DType t);
bool is_floating(DType t);
// Largest N such that every integer in [-N, N] is exactly representable in the type.
std::int64_t exact_integer_limit(DType t);

enum class RedOp { kSum, kAvg, kMax, kMin };
const char* to_string(RedOp o);
RedOp parse_op(const std::string& name);

// Element counts of one call at a requested size, as nccl-tests' GetCollByteCount computes them:
// count = bytes / element size; gathers and scatters use count / nranks elements per rank.
struct CollCounts {
  std::size_t elem_size = 0;
  std::size_t send_count = 0;           // elements in the send buffer of one rank
  std::size_t recv_count = 0;           // elements in the receive buffer of one rank
  std::size_t param_count = 0;          // the count passed to NCCL (printed as "count")
  std::size_t send_inplace_offset = 0;  // in-place: send data sits at recv + rank * this (elements)
  std::size_t recv_inplace_offset = 0;  // in-place: output sits at recv + rank * this (elements)
  std::size_t size_bytes = 0;           // S as nccl-tests prints it: max(send, recv) bytes
};
CollCounts coll_counts(Coll c, std::size_t requested_bytes, DType t, int nranks);

// busbw / algbw: 2(n-1)/n for all_reduce; (n-1)/n for all_gather, reduce_scatter, alltoall;
// 1 for broadcast, reduce, sendrecv. One rank moves nothing over a link: 0 for the first group.
double busbw_factor(Coll c, int nranks);

struct Bandwidth {
  double algbw = 0;  // bytes/s: S / t
  double busbw = 0;  // bytes/s: algbw x busbw_factor
};
// InputError for a non-positive or non-finite time.
Bandwidth bandwidth(Coll c, std::size_t size_bytes, double seconds, int nranks);

}  // namespace goodput::collectives
