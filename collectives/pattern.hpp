// Inputs whose collective result is exactly predictable, shared by the host (tests, reference
// check) and the device (fill and check kernels) so both compute the same values. Every input is
// a small integer; each output element of a reduction sums at most `contributors` non-zero inputs
// whose total stays within the type's exact-integer range, so any reduction order gives the same
// bits. Plain C++ with no CUDA header: GOODPUT_HD marks the functions for nvcc.
#pragma once
#include <cstddef>
#include <cstdint>

#include "collectives/collective.hpp"
#include "harness/core/host_device.hpp"

namespace goodput::collectives {

struct Pattern {
  std::uint64_t seed = 0;
  int nranks = 1;
  int contributors = 1;    // non-zero inputs per reduced element (the rest are 0)
  std::int64_t bound = 1;  // inputs lie in [-bound, bound]
};

inline constexpr int kMaxContributors = 16;

// The pattern for a collective on `nranks` ranks: reductions keep sums exact; copies use the
// type's whole exact range so a misplaced element is likely to differ.
Pattern make_pattern(Coll c, DType t, RedOp op, int nranks, std::uint64_t seed);

GOODPUT_HD inline std::uint64_t pattern_mix(std::uint64_t x) {
  return mix64(x + kGoldenGamma);
}

// Input element `index` of rank `rank` (index in the rank's send buffer).
GOODPUT_HD inline std::int64_t input_value(const Pattern& p, int rank, std::uint64_t index) {
  const auto n = static_cast<std::uint64_t>(p.nranks);
  const std::uint64_t d = (index % n + n - static_cast<std::uint64_t>(rank) % n) % n;
  if (d >= static_cast<std::uint64_t>(p.contributors)) return 0;
  const std::uint64_t h = pattern_mix(
      p.seed ^ pattern_mix(index * 0xd6e8feb86659fd93ull + static_cast<std::uint64_t>(rank)));
  const auto span = static_cast<std::uint64_t>(2 * p.bound + 1);
  return static_cast<std::int64_t>(h % span) - p.bound;
}

// The reduction over all ranks of input element `index` (avg: the exact sum / nranks).
GOODPUT_HD inline double reduced_value(const Pattern& p, RedOp op, std::uint64_t index) {
  const auto n = static_cast<std::uint64_t>(p.nranks);
  std::int64_t sum = 0;
  std::int64_t hi = 0, lo = 0;
  bool first = true;
  for (int j = 0; j < p.contributors; ++j) {
    const int r = static_cast<int>((index % n + n - static_cast<std::uint64_t>(j)) % n);
    const std::int64_t v = input_value(p, r, index);
    sum += v;
    hi = first || v > hi ? v : hi;
    lo = first || v < lo ? v : lo;
    first = false;
  }
  if (p.contributors < p.nranks) {  // the other ranks hold 0 at this index
    hi = hi > 0 ? hi : 0;
    lo = lo < 0 ? lo : 0;
  }
  switch (op) {
    case RedOp::kSum:
      return static_cast<double>(sum);
    case RedOp::kAvg:
      return static_cast<double>(sum) / static_cast<double>(p.nranks);
    case RedOp::kMax:
      return static_cast<double>(hi);
    case RedOp::kMin:
      return static_cast<double>(lo);
  }
  return 0;
}

// Expected output element `j` of rank `me` (index in its receive buffer), for every rank that
// has an output (reduce: the root only). param_count is CollCounts::param_count.
GOODPUT_HD inline double expected_output(const Pattern& p, Coll c, RedOp op, int me, int root,
                                         std::uint64_t j, std::uint64_t param_count) {
  const int n = p.nranks;
  switch (c) {
    case Coll::kAllReduce:
    case Coll::kReduce:
      return reduced_value(p, op, j);
    case Coll::kBroadcast:
      return static_cast<double>(input_value(p, root, j));
    case Coll::kReduceScatter:
      return reduced_value(p, op, static_cast<std::uint64_t>(me) * param_count + j);
    case Coll::kAllGather:
      return static_cast<double>(
          input_value(p, static_cast<int>(j / param_count), j % param_count));
    case Coll::kAllToAll:
      return static_cast<double>(
          input_value(p, static_cast<int>(j / param_count),
                      static_cast<std::uint64_t>(me) * param_count + j % param_count));
    case Coll::kSendRecv:
      return static_cast<double>(input_value(p, (me + n - 1) % n, j));
  }
  return 0;
}

// Allowed |got - expected|: 0 except for avg, where NCCL scales each input by 1/n (rounded to the
// type) before summing (exact only when n is a power of two), and each addition of the c terms
// rounds its partial sum, which grows to c terms' size: the bound of that summation,
// eps x (bound / n) x (c (c + 1) / 2 + c), plus a subnormal's worth per term.
GOODPUT_HD inline double output_tolerance(const Pattern& p, DType t, RedOp op) {
  if (op != RedOp::kAvg) return 0;
  double eps = 0, tiny = 0;  // unit roundoff, smallest subnormal
  switch (t) {
    case DType::kFloat32:
      eps = 1.0 / 8388608;
      tiny = 1.401298464324817e-45;
      break;
    case DType::kBFloat16:
      eps = 1.0 / 128;
      tiny = 9.183549615799121e-41;
      break;
    case DType::kFloat16:
      eps = 1.0 / 1024;
      tiny = 5.960464477539063e-08;
      break;
    case DType::kFloat8E4M3:
      eps = 1.0 / 8;
      tiny = 1.0 / 512;
      break;
    case DType::kFloat8E5M2:
      eps = 1.0 / 4;
      tiny = 1.52587890625e-05;
      break;
    default:
      return 0;
  }
  const double c = p.contributors;
  return eps * static_cast<double>(p.bound) / p.nranks * (c * (c + 1) / 2 + c) + (c + 1) * tiny;
}

// Host reference: fill and check buffers of element type `t` (bytes as the device holds them).
void fill_input_host(void* buf, DType t, const Pattern& p, int rank, std::size_t count);
// Wrong elements in rank me's output; *first_wrong (when given) gets the first wrong index.
std::size_t count_wrong_host(const void* buf, DType t, const Pattern& p, Coll c, RedOp op, int me,
                             int root, const CollCounts& k, std::size_t* first_wrong = nullptr);
// Element codecs of the host reference (round to nearest even; fp8_e4m3 has no infinity).
void encode_element(double v, DType t, void* out);
double decode_element(const void* in, DType t);

}  // namespace goodput::collectives
