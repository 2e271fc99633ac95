#include "collectives/pattern.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "fake_engine.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

std::uint32_t bits_of(double v, DType t) {
  std::uint32_t b = 0;
  encode_element(v, t, &b);
  return b;
}

// The value a type holds after rounding v (encode, then decode).
double in_type(double v, DType t) {
  std::uint32_t b = 0;
  encode_element(v, t, &b);
  return decode_element(&b, t);
}

TEST(Codec, KnownBitPatterns) {
  EXPECT_EQ(bits_of(1.0, DType::kBFloat16), 0x3f80u);
  EXPECT_EQ(bits_of(-2.0, DType::kBFloat16), 0xc000u);
  EXPECT_EQ(bits_of(1.0, DType::kFloat16), 0x3c00u);
  EXPECT_EQ(bits_of(65504.0, DType::kFloat16), 0x7bffu);
  EXPECT_EQ(bits_of(1.0, DType::kFloat8E4M3), 0x38u);
  EXPECT_EQ(bits_of(448.0, DType::kFloat8E4M3), 0x7eu);  // largest e4m3, no infinity
  EXPECT_EQ(bits_of(1.0, DType::kFloat8E5M2), 0x3cu);
  EXPECT_EQ(bits_of(57344.0, DType::kFloat8E5M2), 0x7bu);
  EXPECT_EQ(bits_of(1.0 / 512, DType::kFloat8E4M3), 0x01u);  // smallest subnormal
  EXPECT_EQ(bits_of(0.0, DType::kFloat16), 0u);
}

TEST(Codec, RoundsToNearestEven) {
  EXPECT_EQ(in_type(257.0, DType::kBFloat16), 256.0);  // tie -> even mantissa
  EXPECT_EQ(in_type(259.0, DType::kBFloat16), 260.0);
  EXPECT_EQ(in_type(2049.0, DType::kFloat16), 2048.0);
  EXPECT_EQ(in_type(17.0, DType::kFloat8E4M3), 16.0);
  EXPECT_EQ(in_type(1000.0, DType::kFloat8E4M3), 448.0);  // saturates
  EXPECT_TRUE(std::isinf(in_type(1e6, DType::kFloat16)));
}

TEST(Codec, EveryIntegerInTheExactRangeRoundTrips) {
  for (const DType t : all_dtypes()) {
    const std::int64_t lim = std::min<std::int64_t>(exact_integer_limit(t), 5000);
    for (std::int64_t v = -lim; v <= lim; ++v)
      ASSERT_EQ(in_type(static_cast<double>(v), t), static_cast<double>(v)) << to_string(t);
    if (is_floating(t) && t != DType::kFloat32) {  // just beyond the range, an integer is lost
      EXPECT_NE(in_type(static_cast<double>(exact_integer_limit(t) + 1), t),
                static_cast<double>(exact_integer_limit(t) + 1))
          << to_string(t);
    }
  }
}

TEST(Pattern, InputsStayWithinBoundAndSumsStayExact) {
  for (const DType t : all_dtypes()) {
    for (const int n : {1, 2, 3, 8, 64, 1000}) {
      for (const RedOp op : {RedOp::kSum, RedOp::kMax}) {
        const Pattern p = make_pattern(Coll::kAllReduce, t, op, n, 7);
        EXPECT_GE(p.contributors, 1);
        EXPECT_LE(p.contributors, std::min(n, kMaxContributors));
        if (op == RedOp::kSum) {
          EXPECT_LE(p.contributors * p.bound, exact_integer_limit(t)) << to_string(t) << " " << n;
        }
        for (std::uint64_t i = 0; i < 200; ++i)
          for (int r = 0; r < std::min(n, 20); ++r)
            ASSERT_LE(std::llabs(input_value(p, r, i)), p.bound);
      }
    }
  }
}

TEST(Pattern, EveryRankContributesAndInputsVary) {
  const Pattern p = make_pattern(Coll::kAllReduce, DType::kBFloat16, RedOp::kSum, 64, 3);
  for (int r = 0; r < 64; ++r) {
    int nonzero = 0;
    for (std::uint64_t i = 0; i < 512; ++i) nonzero += input_value(p, r, i) != 0;
    EXPECT_GT(nonzero, 20) << "rank " << r;
  }
  const Pattern q = make_pattern(Coll::kAllReduce, DType::kBFloat16, RedOp::kSum, 64, 4);
  int differ = 0;
  for (std::uint64_t i = 0; i < 512; ++i) differ += input_value(p, 0, i) != input_value(q, 0, i);
  EXPECT_GT(differ, 100) << "the seed changes the inputs";
}

// The point of the pattern: any order of pairwise additions, each rounded to the type, gives the
// exact sum (so NCCL's ring, tree or NVLS order cannot make a right answer look wrong).
TEST(Pattern, AnyReductionOrderGivesTheExactSum) {
  std::mt19937 rng(11);
  for (const DType t :
       {DType::kBFloat16, DType::kFloat16, DType::kFloat8E4M3, DType::kFloat8E5M2, DType::kInt8}) {
    for (const int n : {2, 7, 8, 64, 1000}) {
      const Pattern p = make_pattern(Coll::kAllReduce, t, RedOp::kSum, n, 5);
      for (std::uint64_t i = 0; i < 300; ++i) {
        std::vector<int> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        double acc = 0;
        for (const int r : order) acc = in_type(acc + static_cast<double>(input_value(p, r, i)), t);
        ASSERT_EQ(acc, reduced_value(p, RedOp::kSum, i)) << to_string(t) << " n=" << n;
      }
    }
  }
}

TEST(Pattern, AvgNeedsAFloatingType) {
  EXPECT_THROW(make_pattern(Coll::kAllReduce, DType::kInt8, RedOp::kAvg, 4, 1), InputError);
  EXPECT_THROW(make_pattern(Coll::kAllReduce, DType::kFloat32, RedOp::kSum, 0, 1), InputError);
}

// Changes element i whatever its value: the lowest exponent bit (floats) or bit 0 (integers).
void flip_low_exponent_bit(std::uint8_t* buf, DType t, std::size_t i) {
  int bit = 0;
  switch (t) {
    case DType::kFloat32:
      bit = 23;
      break;
    case DType::kBFloat16:
      bit = 7;
      break;
    case DType::kFloat16:
      bit = 10;
      break;
    case DType::kFloat8E4M3:
      bit = 3;
      break;
    case DType::kFloat8E5M2:
      bit = 2;
      break;
    default:
      bit = 0;
  }
  std::uint8_t* e = buf + i * dtype_size(t);
  e[bit / 8] = static_cast<std::uint8_t>(e[bit / 8] ^ (1u << (bit % 8)));
}

CaseSpec spec_for(Coll c, DType t, RedOp op, int n, std::size_t bytes, int root = 0) {
  CaseSpec s;
  s.coll = c;
  s.dtype = t;
  s.op = op;
  s.root = root;
  s.counts = coll_counts(c, bytes, t, n);
  s.pattern = make_pattern(c, t, op, n, 99);
  return s;
}

// Outputs computed by really moving and reducing the data pass the host check; one flipped
// element or a misplaced block does not.
TEST(HostCheck, SimulatedCollectivesPassAndCorruptionIsCounted) {
  for (const Coll c : all_collectives()) {
    for (const DType t : all_dtypes()) {
      for (const int n : {1, 3, 4}) {
        const RedOp op = RedOp::kSum;
        const CaseSpec s = spec_for(c, t, op, n, 4096, n - 1);
        for (int me = 0; me < n; ++me) {
          auto out = testing::simulate_output(s, n, me);
          ASSERT_EQ(count_wrong_host(out.data(), t, s.pattern, c, op, me, s.root, s.counts), 0u)
              << to_string(c) << " " << to_string(t) << " n=" << n << " rank " << me;
          if (c == Coll::kReduce && me != s.root) continue;
          flip_low_exponent_bit(out.data(), t, 5);
          std::size_t first = 0;
          const auto wrong =
              count_wrong_host(out.data(), t, s.pattern, c, op, me, s.root, s.counts, &first);
          EXPECT_GE(wrong, 1u) << to_string(c) << " " << to_string(t) << " n=" << n;
          if (wrong == 1) {
            EXPECT_EQ(first, 5u);
          }
        }
      }
    }
  }
}

TEST(HostCheck, SwappedGatherBlocksAreWrong) {
  const CaseSpec s = spec_for(Coll::kAllGather, DType::kFloat32, RedOp::kSum, 4, 4096);
  auto out = testing::simulate_output(s, 4, 0);
  const std::size_t block = s.counts.send_count * s.counts.elem_size;
  std::swap_ranges(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(block),
                   out.begin() + static_cast<std::ptrdiff_t>(block));
  EXPECT_GT(count_wrong_host(out.data(), s.dtype, s.pattern, s.coll, s.op, 0, 0, s.counts),
            s.counts.send_count / 2);
}

TEST(HostCheck, MaxMinAndAvgAreChecked) {
  for (const RedOp op : {RedOp::kMax, RedOp::kMin, RedOp::kAvg}) {
    for (const DType t : {DType::kFloat32, DType::kBFloat16, DType::kFloat8E4M3}) {
      for (const int n : {3, 8, 20}) {
        const CaseSpec s = spec_for(Coll::kAllReduce, t, op, n, 2048);
        auto out = testing::simulate_output(s, n, 1);
        EXPECT_EQ(count_wrong_host(out.data(), t, s.pattern, s.coll, op, 1, 0, s.counts), 0u)
            << to_string(op) << " " << to_string(t) << " n=" << n;
        const double v = decode_element(out.data(), t);
        encode_element(v + 2.0 * std::max(1.0, std::fabs(v)), t, out.data());
        EXPECT_EQ(count_wrong_host(out.data(), t, s.pattern, s.coll, op, 1, 0, s.counts), 1u)
            << to_string(op) << " " << to_string(t) << " n=" << n;
      }
    }
  }
}

// NCCL's avg scales each input by 1/n rounded to the type, then sums around the ring, rounding
// every partial sum to the type. Simulated in ring order (each chunk starts at the rank after
// its owner), every element stays within output_tolerance, for rank counts that are not powers
// of two (exact otherwise) and every floating type.
TEST(HostCheck, AvgToleranceHoldsNcclsRoundingInRingOrder) {
  for (const DType t : {DType::kFloat32, DType::kBFloat16, DType::kFloat16, DType::kFloat8E4M3,
                        DType::kFloat8E5M2}) {
    for (const int n : {3, 5, 7, 9, 13, 14, 15}) {
      const Pattern p = make_pattern(Coll::kAllReduce, t, RedOp::kAvg, n, 0x5eedc011ull);
      const double tol = output_tolerance(p, t, RedOp::kAvg);
      const double scale = in_type(1.0 / n, t);
      std::size_t wrong = 0;
      for (std::uint64_t i = 0; i < 100000; ++i) {
        const int start = static_cast<int>((i + 1) % static_cast<std::uint64_t>(n));
        double acc = 0;
        for (int k = 0; k < n; ++k) {
          const double term =
              in_type(static_cast<double>(input_value(p, (start + k) % n, i)) * scale, t);
          acc = k == 0 ? term : in_type(acc + term, t);
        }
        if (!(std::fabs(acc - reduced_value(p, RedOp::kAvg, i)) <= tol)) ++wrong;
      }
      EXPECT_EQ(wrong, 0u) << to_string(t) << " n=" << n;
    }
  }
}

TEST(HostCheck, ReduceChecksOnlyTheRoot) {
  const CaseSpec s = spec_for(Coll::kReduce, DType::kFloat32, RedOp::kSum, 4, 1024, 2);
  std::vector<std::uint8_t> garbage(s.counts.recv_count * 4, 0xff);
  EXPECT_EQ(count_wrong_host(garbage.data(), s.dtype, s.pattern, s.coll, s.op, 1, 2, s.counts), 0u);
  EXPECT_EQ(count_wrong_host(garbage.data(), s.dtype, s.pattern, s.coll, s.op, 2, 2, s.counts),
            s.counts.recv_count);
}

}  // namespace
}  // namespace goodput::collectives
