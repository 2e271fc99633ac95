// Run under `mpirun -np 2`: the MPI bootstrap (unique-id broadcast, gathers, reductions) and the
// sweep driver gathering every rank's identity and times to rank 0, with the GPU part swapped for
// the host engine.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <set>

#include "collectives/bootstrap.hpp"
#include "collectives/runner.hpp"
#include "fake_engine.hpp"

namespace goodput::collectives {
namespace {

Bootstrap& boot() {
  static std::unique_ptr<Bootstrap> b = make_mpi_bootstrap();
  return *b;
}

TEST(MpiBootstrap, RanksAndSize) {
  EXPECT_EQ(boot().kind(), "mpi");
  EXPECT_EQ(boot().size(), 2);
  EXPECT_TRUE(boot().rank() == 0 || boot().rank() == 1);
  EXPECT_TRUE(launched_by_mpi());
}

TEST(MpiBootstrap, BroadcastCarriesRootBytesToEveryone) {
  std::vector<std::uint8_t> id;
  if (boot().rank() == 0)
    for (int i = 0; i < 128; ++i) id.push_back(static_cast<std::uint8_t>(i * 3 + 1));
  boot().broadcast(id, 0);
  ASSERT_EQ(id.size(), 128u);
  for (int i = 0; i < 128; ++i)
    EXPECT_EQ(id[static_cast<std::size_t>(i)], static_cast<std::uint8_t>(i * 3 + 1));
}

TEST(MpiBootstrap, GatherAndAllreduce) {
  const std::string mine =
      "rank-" + std::to_string(boot().rank()) + std::string(boot().rank() * 5, 'x');
  const auto all = boot().gather(mine, 0);
  if (boot().rank() == 0) {
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], "rank-0");
    EXPECT_EQ(all[1], "rank-1xxxxx");
  } else {
    EXPECT_TRUE(all.empty());
  }
  std::vector<double> v = {1.0 + boot().rank(), 10.0 * boot().rank()};
  auto s = v, lo = v, hi = v;
  boot().allreduce(s, ReduceKind::kSum);
  boot().allreduce(lo, ReduceKind::kMin);
  boot().allreduce(hi, ReduceKind::kMax);
  EXPECT_EQ(s, (std::vector<double>{3, 10}));
  EXPECT_EQ(lo, (std::vector<double>{1, 0}));
  EXPECT_EQ(hi, (std::vector<double>{2, 10}));
}

TEST(MpiSweep, ResultsAndIdentitiesGatherToRankZero) {
  testing::FakeOptions o;
  o.per_process = true;
  o.corrupt_rank = 1;
  testing::FakeEngine engine(o);
  engine.init(boot());
  // Every process holds the id rank 0 made.
  std::vector<double> id_sum(engine.unique_id().begin(), engine.unique_id().end());
  ASSERT_EQ(id_sum.size(), 128u);
  auto id_max = id_sum;
  boot().allreduce(id_max, ReduceKind::kMax);
  EXPECT_EQ(id_max, id_sum);
  EXPECT_EQ(engine.nranks(), 2);

  const auto ids = gather_identities(engine, boot());
  if (boot().rank() == 0) {
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(ids[0].rank, 0);
    EXPECT_EQ(ids[1].rank, 1);
    EXPECT_EQ(ids[1].process, 1);
    EXPECT_NE(ids[0].pid, ids[1].pid);
    EXPECT_FALSE(ids[1].host.empty());
    EXPECT_EQ(ids[1].device.uuid, "GPU-fake-1");
  } else {
    EXPECT_TRUE(ids.empty());
  }

  RunConfig cfg;
  cfg.colls = {Coll::kAllReduce, Coll::kSendRecv};
  cfg.sweep = {1024, 4096, 4, 0};
  cfg.in_place = false;
  cfg.iters = 5;
  std::vector<nlohmann::json> results;
  const RunSummary s = run_sweep(
      engine, boot(), cfg, nullptr, [&](const nlohmann::json& j) { results.push_back(j); }, false);
  EXPECT_EQ(s.results, 4);
  EXPECT_EQ(s.wrong_cases, 4) << "rank 1's corruption reaches every process";
  if (boot().rank() == 0) {
    ASSERT_EQ(results.size(), 4u);
    for (const auto& j : results) {
      EXPECT_EQ(j["params"]["nranks"], 2);
      EXPECT_EQ(j["check"]["wrong_per_rank"][0], 0u);
      EXPECT_EQ(j["check"]["wrong_per_rank"][1], 1u);
      // Rank 1 of the fake is 1 % slower: avg of the two, and it is the slowest.
      const auto& per_rank = j["max_rank"]["per_rank_mean_s"];
      EXPECT_GT(per_rank[1].get<double>(), per_rank[0].get<double>());
      EXPECT_EQ(j["max_rank"]["slowest_rank"], 1);
      const double a = j["samples"]["values"][0].get<double>();
      const double hi = j["max_rank"]["samples"]["values"][0].get<double>();
      EXPECT_NEAR(hi / a, 1.01 / 1.005, 1e-9);
    }
  } else {
    EXPECT_TRUE(results.empty());
  }
}

}  // namespace
}  // namespace goodput::collectives

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  goodput::collectives::boot();  // MPI_Init before any test
  // Only rank 0 prints; every rank's failures still fail the job through the exit code.
  if (goodput::collectives::boot().rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  std::vector<double> worst = {static_cast<double>(rc)};
  goodput::collectives::boot().allreduce(worst, goodput::collectives::ReduceKind::kMax);
  return static_cast<int>(worst[0]);
}
