// Run under `mpirun -np 2`: the MPI bootstrap (unique-id broadcast, gathers, reductions) and the
// sweep driver gathering every rank's identity and times to rank 0, with the GPU part swapped for
// the host engine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <set>

#include "collectives/bootstrap.hpp"
#include "collectives/runner.hpp"
#include "fake_engine.hpp"
#include "harness/core/error.hpp"

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

struct FailedSweep {
  std::vector<nlohmann::json> results;  // rank 0's
  std::vector<RankIdentity> ids;        // rank 0's
  int exit_code = 0;
  std::string what;
  double seconds = 0;
};

FailedSweep sweep_failing_on_rank_one(double peer_wait_s) {
  testing::FakeOptions o;
  o.per_process = true;
  o.fail_at_bytes = 4096;
  o.fail_rank = 1;
  o.peer_wait_s = peer_wait_s;
  testing::FakeEngine engine(o);
  engine.init(boot());
  FailedSweep f;
  f.ids = gather_identities(engine, boot());
  RunConfig cfg;
  cfg.sweep = {1024, 16384, 2, 0};
  cfg.in_place = false;
  cfg.iters = 3;
  const auto start = std::chrono::steady_clock::now();
  try {
    run_sweep(
        engine, boot(), cfg, nullptr, [&](const nlohmann::json& j) { f.results.push_back(j); },
        false);
    ADD_FAILURE() << "the sweep went on past the failure";
  } catch (const SweepFailed& e) {
    f.exit_code = e.exit_code();
    f.what = e.what();
  }
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(engine.stopped());
  EXPECT_EQ(engine.cases_run(), 3) << "1K, 2K, then 4K failed on every process";
  return f;
}

// Rank 1 fails while rank 0's part of the case finished: rank 0 still learns it, records it with
// rank 1's host, keeps what finished before, and both stop with the error's exit code.
TEST(MpiSweep, AFailureOnRankOneReachesRankZerosResults) {
  const FailedSweep f = sweep_failing_on_rank_one(0);
  EXPECT_EQ(f.exit_code, kExitRuntime);
  EXPECT_NE(f.what.find("failed on rank(s) 1 ("), std::string::npos) << f.what;
  EXPECT_NE(f.what.find("unhandled cuda error"), std::string::npos) << f.what;
  if (boot().rank() != 0) {
    EXPECT_TRUE(f.results.empty());
    return;
  }
  ASSERT_EQ(f.results.size(), 3u);
  EXPECT_EQ(f.results[0]["status"], "ok");
  EXPECT_EQ(f.results[1]["status"], "ok");
  const auto& failed = f.results[2];
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["params"]["size_bytes"], 4096u);
  EXPECT_EQ(failed["ranks"], "1");
  ASSERT_EQ(failed["failures"].size(), 1u);
  EXPECT_EQ(failed["failures"][0]["process"], 1);
  EXPECT_EQ(failed["failures"][0]["host"], f.ids[1].host);
  EXPECT_EQ(failed["failures"][0]["exit_code"], kExitRuntime);
  const std::string msg = failed["message"];
  EXPECT_NE(msg.find("4096 B failed on rank(s) 1 (" + f.ids[1].host + "): "), std::string::npos)
      << msg;
  EXPECT_EQ(msg, f.what);
}

// Rank 0 is blocked in the collective rank 1 never joins: rank 1's notice ends the wait at once
// (not at the timeout), and the record puts rank 1's own failure first.
TEST(MpiSweep, AProcessWaitingOnAFailedPeerIsToldAndStops) {
  const FailedSweep f = sweep_failing_on_rank_one(60);
  EXPECT_LT(f.seconds, 30.0);
  EXPECT_EQ(f.exit_code, kExitRuntime);
  if (boot().rank() == 0) {
    ASSERT_EQ(f.results.size(), 3u);
    const auto& failed = f.results[2];
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_EQ(failed["ranks"], "1,0");
    ASSERT_EQ(failed["failures"].size(), 2u);
    EXPECT_EQ(failed["failures"][0]["process"], 1);
    EXPECT_EQ(failed["failures"][1]["process"], 0);
    EXPECT_NE(failed["failures"][1]["message"].get<std::string>().find("another process"),
              std::string::npos);
    const std::string msg = failed["message"];
    EXPECT_LT(msg.find("rank(s) 1 ("), msg.find("; rank(s) 0 (")) << msg;
  }
  // Every notice was received: nothing is left in flight, and the next sweep runs cleanly.
  EXPECT_FALSE(boot().peer_failed());
  testing::FakeOptions o;
  o.per_process = true;
  testing::FakeEngine engine(o);
  engine.init(boot());
  RunConfig cfg;
  cfg.sweep = {1024, 2048, 2, 0};
  cfg.in_place = false;
  cfg.iters = 2;
  std::vector<nlohmann::json> results;
  const RunSummary s = run_sweep(
      engine, boot(), cfg, nullptr, [&](const nlohmann::json& j) { results.push_back(j); }, false);
  EXPECT_EQ(s.results, 2);
  EXPECT_FALSE(engine.stopped());
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
