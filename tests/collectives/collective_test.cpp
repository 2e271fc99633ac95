#include "collectives/collective.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

TEST(BusbwFactor, MatchesNcclTestsForEveryCollectiveAndRankCount) {
  for (int n = 1; n <= 64; ++n) {
    const double d = n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kAllReduce, n), 2 * (d - 1) / d) << n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kAllGather, n), (d - 1) / d) << n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kReduceScatter, n), (d - 1) / d) << n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kAllToAll, n), (d - 1) / d) << n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kBroadcast, n), 1.0) << n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kReduce, n), 1.0) << n;
    EXPECT_DOUBLE_EQ(busbw_factor(Coll::kSendRecv, n), 1.0) << n;
  }
  EXPECT_DOUBLE_EQ(busbw_factor(Coll::kAllReduce, 8), 1.75);
  EXPECT_DOUBLE_EQ(busbw_factor(Coll::kAllGather, 8), 0.875);
  EXPECT_THROW(busbw_factor(Coll::kAllReduce, 0), InputError);
}

TEST(Bandwidth, AlgbwIsSizeOverTimeAndBusbwScalesIt) {
  const Bandwidth b = bandwidth(Coll::kAllReduce, 1'000'000'000, 0.5, 8);
  EXPECT_DOUBLE_EQ(b.algbw, 2e9);
  EXPECT_DOUBLE_EQ(b.busbw, 3.5e9);
  // One rank: nothing crosses a link, busbw is 0 as nccl-tests prints it.
  EXPECT_DOUBLE_EQ(bandwidth(Coll::kAllReduce, 1000, 1e-6, 1).busbw, 0.0);
  EXPECT_DOUBLE_EQ(bandwidth(Coll::kBroadcast, 1000, 1e-6, 1).busbw, 1e9);
  EXPECT_THROW(bandwidth(Coll::kAllReduce, 1000, 0.0, 2), InputError);
  EXPECT_THROW(bandwidth(Coll::kAllReduce, 1000, -1.0, 2), InputError);
}

TEST(CollCounts, AllReduceRoundsDownToWholeElements) {
  const CollCounts k = coll_counts(Coll::kAllReduce, 1001, DType::kFloat32, 4);
  EXPECT_EQ(k.param_count, 250u);
  EXPECT_EQ(k.send_count, 250u);
  EXPECT_EQ(k.recv_count, 250u);
  EXPECT_EQ(k.size_bytes, 1000u);
  EXPECT_EQ(k.send_inplace_offset, 0u);
}

TEST(CollCounts, GatherAndScatterUsePerRankCountsAndPrintTheTotal) {
  // 1 MiB of fp32 over 3 ranks: 262144 elements -> 87381 per rank, 262143 in total.
  const CollCounts ag = coll_counts(Coll::kAllGather, 1 << 20, DType::kFloat32, 3);
  EXPECT_EQ(ag.param_count, 87381u);
  EXPECT_EQ(ag.send_count, 87381u);
  EXPECT_EQ(ag.recv_count, 262143u);
  EXPECT_EQ(ag.size_bytes, 262143u * 4);
  EXPECT_EQ(ag.send_inplace_offset, 87381u);
  EXPECT_EQ(ag.recv_inplace_offset, 0u);

  const CollCounts rs = coll_counts(Coll::kReduceScatter, 1 << 20, DType::kFloat32, 3);
  EXPECT_EQ(rs.param_count, 87381u);
  EXPECT_EQ(rs.send_count, 262143u);
  EXPECT_EQ(rs.recv_count, 87381u);
  EXPECT_EQ(rs.size_bytes, 262143u * 4);
  EXPECT_EQ(rs.recv_inplace_offset, 87381u);

  const CollCounts a2a = coll_counts(Coll::kAllToAll, 1 << 20, DType::kBFloat16, 3);
  EXPECT_EQ(a2a.param_count, 174762u);
  EXPECT_EQ(a2a.send_count, 524286u);
  EXPECT_EQ(a2a.recv_count, 524286u);
  EXPECT_EQ(a2a.size_bytes, 524286u * 2);
}

TEST(CollCounts, AlgbwOfGathersEqualsPerRankBytesTimesRanks) {
  // nccl-tests computes algbw of all_gather as count * typesize * nranks / t with count per rank.
  for (int n : {1, 2, 3, 8, 12}) {
    for (const Coll c : {Coll::kAllGather, Coll::kReduceScatter, Coll::kAllToAll}) {
      const CollCounts k = coll_counts(c, 96 << 20, DType::kFloat16, n);
      EXPECT_EQ(k.size_bytes, k.param_count * k.elem_size * static_cast<std::size_t>(n))
          << to_string(c) << " n=" << n;
    }
    for (const Coll c : {Coll::kAllReduce, Coll::kBroadcast, Coll::kReduce, Coll::kSendRecv}) {
      const CollCounts k = coll_counts(c, 96 << 20, DType::kFloat16, n);
      EXPECT_EQ(k.size_bytes, k.param_count * k.elem_size) << to_string(c);
    }
  }
}

TEST(CollCounts, FewerElementsThanRanksGiveZero) {
  const CollCounts k = coll_counts(Coll::kAllGather, 8, DType::kFloat32, 4);
  EXPECT_EQ(k.param_count, 0u);
  EXPECT_EQ(k.size_bytes, 0u);
  EXPECT_THROW(coll_counts(Coll::kAllGather, 8, DType::kFloat32, 0), InputError);
}

TEST(Names, ParseOursAndNcclTestsSpellings) {
  for (const Coll c : all_collectives()) EXPECT_EQ(parse_collective(to_string(c)), c);
  EXPECT_EQ(parse_collective("allreduce"), Coll::kAllReduce);
  EXPECT_EQ(parse_collective("All-Gather"), Coll::kAllGather);
  for (const DType t : all_dtypes()) EXPECT_EQ(parse_dtype(to_string(t)), t);
  EXPECT_EQ(parse_dtype("float"), DType::kFloat32);
  EXPECT_EQ(parse_dtype("half"), DType::kFloat16);
  EXPECT_EQ(parse_dtype("bfloat16"), DType::kBFloat16);
  EXPECT_EQ(parse_op("MAX"), RedOp::kMax);
  try {
    parse_collective("allreduc");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("all_reduce, all_gather"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_dtype("fp64"), InputError);
  EXPECT_THROW(parse_op("prod"), InputError);
}

TEST(DTypes, SizesAndExactIntegerRanges) {
  EXPECT_EQ(dtype_size(DType::kFloat32), 4u);
  EXPECT_EQ(dtype_size(DType::kBFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::kFloat8E4M3), 1u);
  EXPECT_EQ(exact_integer_limit(DType::kBFloat16), 256);
  EXPECT_EQ(exact_integer_limit(DType::kFloat16), 2048);
  EXPECT_EQ(exact_integer_limit(DType::kFloat8E4M3), 16);
  EXPECT_EQ(exact_integer_limit(DType::kFloat32), 1 << 24);
  EXPECT_TRUE(is_floating(DType::kFloat8E5M2));
  EXPECT_FALSE(is_floating(DType::kInt8));
  EXPECT_TRUE(is_reduction(Coll::kReduceScatter));
  EXPECT_FALSE(is_reduction(Coll::kAllGather));
  EXPECT_TRUE(has_root(Coll::kBroadcast));
}

}  // namespace
}  // namespace goodput::collectives
