#include "collectives/runner.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "fake_engine.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::collectives {
namespace {

using testing::FakeEngine;
using testing::FakeOptions;

LinkDb repo_db() {
  const std::string path = std::string(GOODPUT_RESULTS_DIR) + "/interconnects.json";
  return parse_link_db(read_json_file(path), path);
}

struct SweepRun {
  std::vector<nlohmann::json> results;
  RunSummary summary;
};

SweepRun run(FakeEngine& engine, const RunConfig& cfg, const LinkDb* db = nullptr) {
  auto boot = make_local_bootstrap();
  engine.init(*boot);
  SweepRun r;
  r.summary = run_sweep(
      engine, *boot, cfg, db, [&r](const nlohmann::json& j) { r.results.push_back(j); }, false);
  return r;
}

// A sweep that must stop at a failure: what reached the sink, and how it ended.
struct StoppedRun {
  std::vector<nlohmann::json> results;
  int exit_code = 0;
  std::string what;
};

StoppedRun run_to_failure(Engine& engine, const RunConfig& cfg, const LinkDb* db = nullptr) {
  auto boot = make_local_bootstrap();
  engine.init(*boot);
  StoppedRun r;
  try {
    run_sweep(
        engine, *boot, cfg, db, [&r](const nlohmann::json& j) { r.results.push_back(j); }, false);
    ADD_FAILURE() << "the sweep went on";
  } catch (const SweepFailed& e) {
    r.exit_code = e.exit_code();
    r.what = e.what();
  }
  return r;
}

TEST(Runner, EveryCollectiveSizeAndPlacementBecomesAResult) {
  FakeOptions o;
  o.local_ranks = 4;
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.colls = all_collectives();
  cfg.dtypes = {DType::kFloat32, DType::kBFloat16};
  cfg.sweep = {1024, 16384, 4, 0};  // 1K, 4K, 16K
  cfg.iters = 7;
  cfg.root = 3;
  const LinkDb db = repo_db();
  const SweepRun r = run(engine, cfg, &db);
  // 2 types x 3 sizes x (5 collectives x 2 placements + alltoall, sendrecv out-of-place only)
  EXPECT_EQ(r.results.size(), 2u * 3u * 12u);
  EXPECT_EQ(r.summary.results, 72);
  EXPECT_EQ(r.summary.wrong_elements, 0u);
  std::set<std::string> names;
  for (const auto& j : r.results) {
    names.insert(j["name"].get<std::string>());
    EXPECT_EQ(j["kind"], "collective");
    EXPECT_EQ(j["status"], "ok") << j.dump();
    EXPECT_EQ(j["samples"]["unit"], "s");
    EXPECT_EQ(j["samples"]["values"].size(), 7u);
    EXPECT_EQ(j["stats"]["n"], 7u);
    const auto& p = j["params"];
    EXPECT_EQ(p["nranks"], 4);
    const Coll c = parse_collective(p["collective"].get<std::string>());
    const double t = j["stats"]["median"].get<double>();
    const double size = p["size_bytes"].get<double>();
    EXPECT_DOUBLE_EQ(j["rates"]["algbw"].get<double>(), size / t);
    EXPECT_DOUBLE_EQ(j["rates"]["busbw"].get<double>(), size / t * busbw_factor(c, 4));
    EXPECT_EQ(j["check"]["wrong_elements"], 0u);
    EXPECT_EQ(j["check"]["wrong_per_rank"].size(), 4u);
    EXPECT_EQ(j["peaks"]["link"]["kind"], "nvlink");
    EXPECT_DOUBLE_EQ(j["peaks"]["link"]["value"].get<double>(), 450e9);
    // The fake's rank 3 is the slowest (1 % per rank).
    EXPECT_EQ(j["max_rank"]["slowest_rank"], 3);
    EXPECT_GE(j["max_rank"]["stats"]["median"].get<double>(), t);
    if (has_root(c)) {
      EXPECT_EQ(p["root"], 3);
    }
    if (!is_reduction(c)) {
      EXPECT_TRUE(p["op"].is_null());
    }
  }
  EXPECT_EQ(names.size(), r.results.size()) << "result names are unique";
  EXPECT_TRUE(names.count("all_reduce/fp32/sum/in-place/1024"));
  EXPECT_TRUE(names.count("all_gather/bf16/out-of-place/16384"));
  EXPECT_FALSE(names.count("alltoall/fp32/in-place/1024"));
}

TEST(Runner, SizesWithFewerElementsThanRanksAreSkipped) {
  FakeOptions o;
  o.local_ranks = 4;
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.colls = {Coll::kAllGather};
  cfg.sweep = {8, 64, 8, 0};  // 8 B = 2 fp32 < 4 ranks; 64 B fine
  cfg.in_place = false;
  const SweepRun r = run(engine, cfg);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0]["status"], "skipped");
  EXPECT_NE(r.results[0]["reason"].get<std::string>().find("fewer elements"), std::string::npos);
  EXPECT_EQ(r.results[1]["status"], "ok");
  EXPECT_EQ(r.summary.skipped, 1);
  EXPECT_EQ(engine.cases_run(), 1);
}

TEST(Runner, WrongElementsAreCountedPerRank) {
  FakeOptions o;
  o.local_ranks = 3;
  o.corrupt_rank = 2;
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.colls = {Coll::kAllReduce, Coll::kAllGather};
  cfg.sweep = {4096, 4096, 2, 0};
  cfg.in_place = false;
  const SweepRun r = run(engine, cfg);
  ASSERT_EQ(r.results.size(), 2u);
  for (const auto& j : r.results) {
    EXPECT_EQ(j["status"], "wrong");
    EXPECT_EQ(j["check"]["wrong_per_rank"][0], 0u);
    EXPECT_EQ(j["check"]["wrong_per_rank"][2], 1u);
  }
  EXPECT_EQ(r.summary.wrong_elements, 2u);
  EXPECT_EQ(r.summary.wrong_cases, 2);
}

TEST(Runner, NoCheckMeansNoCount) {
  FakeOptions o;
  o.local_ranks = 2;
  o.corrupt_rank = 1;
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.sweep = {4096, 4096, 2, 0};
  cfg.check = false;
  const SweepRun r = run(engine, cfg);
  for (const auto& j : r.results) {
    EXPECT_EQ(j["status"], "ok");
    EXPECT_TRUE(j["check"]["wrong_elements"].is_null());
  }
}

TEST(Runner, AFailureIsRecordedWithSizeAndRankAndEarlierResultsAreKept) {
  FakeOptions o;
  o.local_ranks = 2;
  o.fail_at_bytes = 4096;
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.sweep = {1024, 16384, 2, 0};
  cfg.in_place = false;
  cfg.timeout_s = 5;
  const StoppedRun r = run_to_failure(engine, cfg);
  EXPECT_EQ(r.exit_code, kExitRuntime);
  EXPECT_NE(r.what.find("did not finish"), std::string::npos) << r.what;
  EXPECT_TRUE(engine.stopped());
  const auto& results = r.results;
  ASSERT_EQ(results.size(), 3u);  // 1K, 2K ok; 4K failed; 8K, 16K never ran
  EXPECT_EQ(results[0]["status"], "ok");
  EXPECT_EQ(results[1]["status"], "ok");
  EXPECT_EQ(results[2]["status"], "failed");
  const std::string msg = results[2]["message"];
  EXPECT_NE(msg.find("4096 B"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank(s) 0,1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did not finish"), std::string::npos) << msg;
  EXPECT_EQ(results[2]["ranks"], "0,1");
  ASSERT_EQ(results[2]["failures"].size(), 1u);
  EXPECT_EQ(results[2]["failures"][0]["process"], 0);
  EXPECT_EQ(results[2]["failures"][0]["exit_code"], kExitRuntime);
  EXPECT_FALSE(results[2]["failures"][0]["host"].get<std::string>().empty());
}

// Stops like Ctrl-C would at one size.
class InterruptedEngine final : public Engine {
 public:
  InterruptedEngine(FakeOptions o, std::size_t at_bytes) : fake_(o), at_(at_bytes) {}
  void init(Bootstrap& boot) override { fake_.init(boot); }
  int nranks() const override { return fake_.nranks(); }
  std::vector<RankIdentity> local_ranks() const override { return fake_.local_ranks(); }
  LocalMeasurement run_case(const CaseSpec& s) override {
    if (s.counts.size_bytes == at_) throw Error(kExitInterrupted, "interrupted");
    return fake_.run_case(s);
  }
  nlohmann::json details() const override { return fake_.details(); }

 private:
  FakeEngine fake_;
  std::size_t at_;
};

TEST(Runner, AnInterruptStopsTheSweepWithoutAFailedResult) {
  FakeOptions o;
  o.local_ranks = 2;
  InterruptedEngine engine(o, 2048);
  RunConfig cfg;
  cfg.sweep = {1024, 4096, 2, 0};
  cfg.in_place = false;
  const StoppedRun r = run_to_failure(engine, cfg);
  EXPECT_EQ(r.exit_code, kExitInterrupted);
  EXPECT_EQ(r.what, "interrupted");
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0]["status"], "ok");
}

TEST(Runner, EachResultCarriesWhatNcclReportedForItsSize) {
  FakeOptions o;
  o.local_ranks = 8;
  o.tuning_algo = "NVLS";
  o.tuning_proto = "SIMPLE";
  o.base_seconds = 1e-9;  // far above the 450 GB/s NVLink4 peak of the fake's links
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.colls = {Coll::kAllReduce, Coll::kAllGather, Coll::kSendRecv};
  cfg.sweep = {1 << 20, 1 << 20, 2, 0};
  cfg.in_place = false;
  cfg.iters = 3;
  cfg.warmup = 2;
  const LinkDb db = repo_db();
  const SweepRun r = run(engine, cfg, &db);
  ASSERT_EQ(r.results.size(), 3u);
  const auto& ar = r.results[0];
  EXPECT_EQ(ar["nccl"]["algorithm"], "NVLS");
  EXPECT_EQ(ar["nccl"]["protocol"], "Simple");
  EXPECT_EQ(ar["nccl"]["calls"], 1 + 2 + 3);
  EXPECT_TRUE(ar["nccl"]["reason"].is_null());
  EXPECT_EQ(ar["peaks"]["link"]["nccl_algorithm"], "NVLS");
  EXPECT_GT(ar["peaks"]["link"]["ratio"].get<double>(), 1.0);
  EXPECT_NE(ar["peaks"]["link"]["note"].get<std::string>().find("NCCL ran NVLS"), std::string::npos)
      << ar["peaks"]["link"].dump();
  EXPECT_EQ(r.results[1]["nccl"]["algorithm"], "NVLS") << "all_gather: per-rank bytes matched";
  const auto& sr = r.results[2];
  EXPECT_TRUE(sr["nccl"]["algorithm"].is_null());
  EXPECT_NE(sr["nccl"]["reason"].get<std::string>().find("ncclSend/ncclRecv"), std::string::npos);
}

TEST(Runner, WithoutNcclOutputTheChoiceIsNullWithAReason) {
  FakeOptions o;
  o.local_ranks = 2;
  FakeEngine engine(o);
  RunConfig cfg;
  cfg.sweep = {4096, 4096, 2, 0};
  cfg.in_place = false;
  const SweepRun r = run(engine, cfg);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_TRUE(r.results[0]["nccl"]["algorithm"].is_null());
  EXPECT_EQ(r.results[0]["nccl"]["reason"], "the fake engine runs no NCCL");
  EXPECT_TRUE(r.results[0]["peaks"]["link"]["nccl_algorithm"].is_null());
}

// A results document with every kind of collective row (ok, wrong, skipped, failed) validates
// against results/schema (scripts/validate_results.py; skipped without Python's jsonschema).
TEST(Runner, EveryKindOfRowValidatesAgainstTheSchema) {
  char dir[] = "/tmp/goodput-collectives-schema-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/collectives.json";
  {
    ResultsWriter out(path, "collectives", {"goodput", "collectives"});
    FakeOptions o;
    o.local_ranks = 4;
    o.corrupt_rank = 1;
    o.fail_at_bytes = 4096;
    o.tuning_algo = "RING";
    o.tuning_proto = "LL128";
    FakeEngine engine(o);
    RunConfig cfg;
    cfg.colls = {Coll::kAllGather};
    cfg.sweep = {8, 4096, 8, 0};  // 8 B skipped, 64 B and 512 B wrong, 4096 B failed
    cfg.in_place = false;
    const LinkDb db = repo_db();
    const StoppedRun r = run_to_failure(engine, cfg, &db);
    for (const auto& j : r.results) out.add_result(j);
    out.finish("failed", r.what);
    std::set<std::string> statuses;
    for (const auto& row : out.document()["results"]) statuses.insert(row["status"]);
    EXPECT_EQ(statuses, (std::set<std::string>{"skipped", "wrong", "failed"}));
  }
  const std::string cmd = std::string(GOODPUT_PYTHON) + " " + GOODPUT_RESULTS_DIR +
                          "/../scripts/validate_results.py " + path + " > " + dir + "/out 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(std::string(dir) + "/out");
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove((std::string(dir) + "/out").c_str());
  std::remove(path.c_str());
  rmdir(dir);
  if (rc != 0 && WIFEXITED(rc) && WEXITSTATUS(rc) == 2) GTEST_SKIP() << said;
  EXPECT_EQ(rc, 0) << said;
}

TEST(CombineRanks, AvgMinMaxAndRank0) {
  const std::vector<std::vector<double>> s = {{1, 4}, {3, 2}, {2, 6}};
  auto c = combine_ranks(s, RankTime::kAvg);
  EXPECT_EQ(c.combined, (std::vector<double>{2, 4}));
  EXPECT_EQ(c.max_rank, (std::vector<double>{3, 6}));
  EXPECT_EQ(c.per_rank_mean, (std::vector<double>{2.5, 2.5, 4}));
  EXPECT_EQ(combine_ranks(s, RankTime::kMin).combined, (std::vector<double>{1, 2}));
  EXPECT_EQ(combine_ranks(s, RankTime::kMax).combined, (std::vector<double>{3, 6}));
  EXPECT_EQ(combine_ranks(s, RankTime::kRank0).combined, (std::vector<double>{1, 4}));
  EXPECT_THROW(combine_ranks({{1, 2}, {1}}, RankTime::kAvg), RuntimeFailure);
}

TEST(Validate, SettingsThatCannotRunAreUsageErrors) {
  RunConfig c;
  EXPECT_NO_THROW(validate(c, 2));
  c.root = 2;
  EXPECT_THROW(validate(c, 2), InputError);
  c = RunConfig{};
  c.op = RedOp::kAvg;
  c.dtypes = {DType::kInt8};
  EXPECT_THROW(validate(c, 2), InputError);
  c.colls = {Coll::kAllGather};  // avg does not matter without a reduction
  EXPECT_NO_THROW(validate(c, 2));
  c = RunConfig{};
  c.iters = 0;
  EXPECT_THROW(validate(c, 2), InputError);
  c = RunConfig{};
  c.in_place = c.out_of_place = false;
  EXPECT_THROW(validate(c, 2), InputError);
  c = RunConfig{};
  c.sweep = {64, 8, 2, 0};
  EXPECT_THROW(validate(c, 2), InputError);
  EXPECT_THROW(parse_rank_time("median"), InputError);
  EXPECT_THROW(parse_timing_mode("wall"), InputError);
}

TEST(Identity, JsonRoundTrip) {
  RankIdentity id;
  id.rank = 5;
  id.host = "node7";
  id.pid = 1234;
  id.process = 5;
  id.device.name = "NVIDIA H100 80GB HBM3";
  id.device.sms = 132;
  id.links.nvlink_links = 18;
  const RankIdentity r = rank_identity_from_json(to_json(id));
  EXPECT_EQ(r.rank, 5);
  EXPECT_EQ(r.host, "node7");
  EXPECT_EQ(r.device.sms, 132);
  EXPECT_EQ(r.links.nvlink_links, 18);
}

}  // namespace
}  // namespace goodput::collectives
