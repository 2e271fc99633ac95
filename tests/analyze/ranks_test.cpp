// Across ranks: the slowest rank by step window, the rank the others wait for, ties within the
// noise level, steps some ranks lack, ranks of files that carry none, and NCCL rows per group
// size, on jobs simulated here (every time below in µs).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "profiler/analyze/analysis.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

constexpr const char* kGemm =
    "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_"
    "segment_k_off_kernel__5x_cublas";
constexpr const char* kElementwise = "void at::native::vectorized_elementwise_kernel<4>(int)";

// One rank's Kineto trace, built event by event.
struct RankTraceText {
  int rank = -1;  // < 0: no distributedInfo
  int world = 0;
  std::string events;
  int corr = 0;

  void add(const std::string& e) { events += (events.empty() ? "" : ",\n") + e; }
  void step(int n, long ts, long dur) {
    add(R"({"ph":"X","cat":"user_annotation","name":"ProfilerStep#)" + std::to_string(n) +
        R"(","pid":1,"tid":1,"ts":)" + std::to_string(ts) + R"(,"dur":)" + std::to_string(dur) +
        "}");
  }
  // A kernel launched at `launch` that runs [ts, ts + dur) on `stream`; extra: more args.
  void kernel(const std::string& name, long launch, long ts, long dur, int stream,
              const std::string& extra = "") {
    const std::string c = std::to_string(++corr);
    add(R"({"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","pid":1,"tid":1,"ts":)" +
        std::to_string(launch) + R"(,"dur":5,"args":{"correlation":)" + c + "}}");
    add(R"({"ph":"X","cat":"kernel","name":")" + name + R"(","pid":0,"tid":)" +
        std::to_string(stream) + R"(,"ts":)" + std::to_string(ts) + R"(,"dur":)" +
        std::to_string(dur) + R"(,"args":{"device":0,"stream":)" + std::to_string(stream) +
        R"(,"correlation":)" + c + extra + "}}");
  }
  void nccl(const std::string& coll, long nelems, const std::string& dtype, int group, long launch,
            long ts, long dur) {
    kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)", launch, ts,
           dur, 20,
           R"(,"Collective name":")" + coll + R"(","In msg nelems":)" + std::to_string(nelems) +
               R"(,"Out msg nelems":)" + std::to_string(nelems) + R"(,"Group size":)" +
               std::to_string(group) + R"(,"dtype":")" + dtype + R"(")");
  }
  std::string text() const {
    std::string dist;
    if (rank >= 0)
      dist = R"("distributedInfo":{"backend":"nccl","rank":)" + std::to_string(rank) +
             R"(,"world_size":)" + std::to_string(world) + "},";
    return "{" + dist +
           R"("deviceProperties":[{"id":0,"name":"NVIDIA H100 80GB HBM3","totalGlobalMem":)"
           R"(85000000000,"computeMajor":9,"computeMinor":0,"numSms":132}],"traceEvents":[)" +
           events + "]}";
  }
  std::string file() const { return goodput::testing::write_temp(text()); }
};

// A synchronous data-parallel job: per step each rank runs a GEMM of gemm_us[rank] µs and a
// 100 µs elementwise kernel, then an all-reduce that ends 50 µs after the last rank reaches it;
// the next step's compute waits for it. Every rank's step window is the same.
std::vector<std::string> sync_job(const std::vector<long>& gemm_us, int steps = 4) {
  const int n = static_cast<int>(gemm_us.size());
  std::vector<RankTraceText> r(gemm_us.size());
  std::vector<long> free7(gemm_us.size(), 0), free20(gemm_us.size(), 0), ends(gemm_us.size());
  for (int k = 0; k < n; ++k) r[k] = {k, n, "", 1000 * k};
  for (int s = 1; s <= steps; ++s) {
    const long t0 = 1000 + s * 100;
    for (int k = 0; k < n; ++k) {
      r[k].step(s, t0, 100);
      const long g = std::max({t0 + 20, free7[k], free20[k]});
      r[k].kernel(kGemm, t0 + 10, g, gemm_us[k], 7);
      r[k].kernel(kElementwise, t0 + 20, g + gemm_us[k], 100, 7);
      free7[k] = ends[k] = g + gemm_us[k] + 100;
    }
    const long done = *std::max_element(ends.begin(), ends.end()) + 50;
    for (int k = 0; k < n; ++k) {
      r[k].nccl("allreduce", 1 << 20, "BFloat16", n, t0 + 30, ends[k], done - ends[k]);
      free20[k] = done;
    }
  }
  std::vector<std::string> files;
  for (const auto& t : r) files.push_back(t.file());
  return files;
}

// An independent job: rank k's step s takes period_us(k, s) on the GPU (one GEMM, then idle
// until the host launches the next step), for the steps listed per rank.
std::vector<std::string> free_job(const std::vector<std::vector<int>>& steps_of,
                                  long (*period_us)(int rank, int step)) {
  std::vector<std::string> files;
  for (int k = 0; k < static_cast<int>(steps_of.size()); ++k) {
    RankTraceText r{k, static_cast<int>(steps_of.size()), "", 0};
    long t0 = 0;
    for (int s = 1; s <= 8; ++s) {
      const long p = period_us(k, s);
      if (std::find(steps_of[k].begin(), steps_of[k].end(), s) != steps_of[k].end()) {
        r.step(s, t0, p - 1);
        r.kernel(kGemm, t0 + 1, t0 + 5, 20, 7);
      }
      t0 += p;
    }
    files.push_back(r.file());
  }
  return files;
}

struct Job {
  std::vector<traceio::RankTrace> traces;
  AnalysisResult result;
};

Job analyze_files(const std::vector<std::string>& files, AnalyzeOptions opt = {}) {
  Job j{traceio::read_traces(files), {}};
  std::vector<TraceInput> in;
  for (const auto& t : j.traces) in.push_back({&t, 0.0});
  j.result = analyze(in, opt);
  return j;
}

TEST(Stragglers, SynchronousJobNamesTheRankTheOthersWaitFor) {
  // Rank 1's GEMM takes 900 µs, the others' 400 µs: all windows are 1.05 ms, and ranks 0 and
  // 2 spend the difference waiting in the all-reduce.
  const auto job = analyze_files(sync_job({400, 900, 400}));
  const auto& j = job.result.json;
  ASSERT_EQ(j["stragglers"].size(), 4u) << j.dump(1);
  for (const auto& s : j["stragglers"]) {
    EXPECT_EQ(s["waited_for_rank"], 1) << s.dump(1);
    EXPECT_EQ(s["waited_for_cause"], "gemm") << s.dump(1);
    EXPECT_NEAR(s["waited_for_busy_seconds"].get<double>(), 1000e-6, 1e-12);
    EXPECT_NEAR(s["median_busy_seconds"].get<double>(), 500e-6, 1e-12);
    EXPECT_NEAR(s["waited_for_excess_over_median_seconds"]["gemm"].get<double>(), 500e-6, 1e-12);
    // Equal windows: no rank is slower than the others by its window.
    EXPECT_TRUE(s["slowest_rank"].is_null()) << s.dump(1);
  }
  EXPECT_EQ(j["waited_for_rank_counts"]["1"], 4);
  const std::string& rep = job.result.report;
  EXPECT_NE(rep.find("ProfilerStep#2: no slowest rank"), std::string::npos) << rep;
  EXPECT_NE(rep.find("waited for rank 1: busy 1.000 ms vs median 0.500 ms (+0.500 ms), most "
                     "excess in gemm"),
            std::string::npos)
      << rep;
  EXPECT_NE(rep.find("  rank waited for per step: rank 1 in 4 of 4"), std::string::npos) << rep;
  EXPECT_NE(rep.find("0 of 4 steps  4 of 4 steps"), std::string::npos) << rep;  // rank 1's row
}

TEST(Stragglers, IdenticalRanksHaveNoStraggler) {
  const auto job = analyze_files(sync_job({400, 400, 400}));
  const auto& j = job.result.json;
  ASSERT_EQ(j["stragglers"].size(), 4u);
  for (const auto& s : j["stragglers"]) {
    EXPECT_TRUE(s["slowest_rank"].is_null()) << s.dump(1);
    EXPECT_TRUE(s["cause"].is_null()) << s.dump(1);
    EXPECT_TRUE(s["waited_for_rank"].is_null()) << s.dump(1);
    EXPECT_TRUE(s["waited_for_cause"].is_null()) << s.dump(1);
    EXPECT_DOUBLE_EQ(s["spread_pct"].get<double>(), 0.0);
  }
  EXPECT_TRUE(j["slowest_rank_counts"].empty()) << j["slowest_rank_counts"];
  EXPECT_TRUE(j["waited_for_rank_counts"].empty());
  const std::string& rep = job.result.report;
  EXPECT_EQ(rep.find("slowest rank 0"), std::string::npos) << rep;
  EXPECT_NE(rep.find("slowest rank per step: none (4 of 4 steps within the noise level)"),
            std::string::npos)
      << rep;
  EXPECT_NE(rep.find("0 of 4 steps  0 of 4 steps"), std::string::npos) << rep;
}

long spread_2us(int rank, int /*step*/) {
  return 1000 + 2 * rank;  // 0.2 % apart, but under the 5 µs floor
}
long spread_1pct(int rank, int step) {
  return 1000 + (rank == 1 && step == 2 ? 10 : 0);
}

TEST(Stragglers, SpreadUnderTheNoiseLevelIsATie) {
  auto job = analyze_files(free_job({{1, 2, 3}, {1, 2, 3}}, spread_2us), {});
  for (const auto& s : job.result.json["stragglers"])
    EXPECT_TRUE(s["slowest_rank"].is_null()) << s.dump(1);
  job = analyze_files(free_job({{1, 2, 3}, {1, 2, 3}}, spread_1pct), {});
  const auto& st = job.result.json["stragglers"];
  ASSERT_EQ(st.size(), 3u);
  EXPECT_TRUE(st[0]["slowest_rank"].is_null());
  EXPECT_EQ(st[1]["slowest_rank"], 1);  // ProfilerStep#2's window reaches step 3's start
  EXPECT_EQ(st[1]["cause"], "idle_host_launch");
  EXPECT_EQ(job.result.json["slowest_rank_counts"], nlohmann::json({{"1", 1}}));
  EXPECT_NE(job.result.report.find("slowest rank per step: rank 1 in 1 of 3 (2 steps within the "
                                   "noise level)"),
            std::string::npos)
      << job.result.report;
}

long steady(int, int) {
  return 1000;
}

TEST(Stragglers, OnlyStepsEveryRankHasAreCompared) {
  // Rank 2 lacks step 1, rank 1 step 4. Step 3 is rank 1's last: its window ends with its own
  // work (25 µs), the others' at step 4's first work (1000 µs), so it is not compared either.
  const auto job = analyze_files(free_job({{1, 2, 3, 4}, {1, 2, 3}, {2, 3, 4}}, steady));
  const auto& j = job.result.json;
  ASSERT_EQ(j["stragglers"].size(), 1u) << j["stragglers"].dump(1);
  EXPECT_EQ(j["stragglers"][0]["step"], "ProfilerStep#2");
  EXPECT_EQ(j["steps_last_on_some_ranks_only"], nlohmann::json({"ProfilerStep#3"}));
  EXPECT_EQ(j["ranks"][1]["missing_steps"], nlohmann::json({"ProfilerStep#4"}));
  EXPECT_EQ(j["ranks"][2]["missing_steps"], nlohmann::json({"ProfilerStep#1"}));
  EXPECT_FALSE(j["ranks"][0].contains("missing_steps"));
  // The warm-up is the job's first step, on every rank: rank 2 keeps all three of its steps.
  EXPECT_EQ(j["ranks"][2]["steady_state"]["warmup_steps_excluded"], 0);
  EXPECT_EQ(j["ranks"][2]["steady_state"]["steps"], 3);
  EXPECT_EQ(j["ranks"][1]["steady_state"]["steps"], 2);
  const std::string& rep = job.result.report;
  EXPECT_NE(rep.find("note: no ProfilerStep#1, which other ranks have"), std::string::npos) << rep;
  EXPECT_NE(rep.find("3 steps left out: not on every rank, or the last of some ranks only"),
            std::string::npos)
      << rep;
}

TEST(Ranks, FileWithoutRankTakesOneNoFileClaims) {
  RankTraceText with{1, 2, "", 0}, without{-1, 0, "", 100};
  for (auto* r : {&with, &without}) {
    r->step(1, 0, 99);
    r->kernel(kGemm, 1, 5, 20, 7);
  }
  const auto job = analyze_files({with.file(), without.file()});
  ASSERT_EQ(job.traces.size(), 2u);
  EXPECT_EQ(job.traces[0].rank(), 0);  // the file without a rank
  EXPECT_EQ(job.traces[1].rank(), 1);
  EXPECT_EQ(job.result.json["inputs"][0]["rank_source"], "assigned");
  EXPECT_EQ(job.result.json["inputs"][1]["rank_source"], "file");
  EXPECT_NE(job.result.report.find("note: the file names no rank: rank 0, the lowest no other "
                                   "file claims"),
            std::string::npos)
      << job.result.report;
}

TEST(Nccl, RowsPerGroupSize) {
  // all_reduce bf16 over 2 ranks once, over 8 ranks twice: 2 MiB each in 100 µs.
  RankTraceText r{0, 8, "", 0};
  r.step(1, 0, 2000);
  for (int k = 0; k < 3; ++k)
    r.nccl("allreduce", 1 << 20, "BFloat16", k == 0 ? 2 : 8, 10 + k, 100 + 200 * k, 100);
  const auto job = analyze_files({r.file()});
  const auto& comm = job.result.json["ranks"][0]["communication"];
  ASSERT_EQ(comm.size(), 2u) << comm.dump(1);
  const double algbw = 2.0 * (1 << 20) / 100e-6 / 1e9;
  std::map<int, const nlohmann::json*> by_group;
  for (const auto& c : comm) by_group[c["group_size"].get<int>()] = &c;
  ASSERT_EQ(by_group.size(), 2u);
  EXPECT_EQ((*by_group[2])["calls"], 1);
  EXPECT_EQ((*by_group[8])["calls"], 2);
  for (const auto& [n, c] : by_group) {
    EXPECT_NEAR((*c)["algbw_gbps_median"].get<double>(), algbw, 1e-9) << n;
    EXPECT_NEAR((*c)["busbw_gbps_median"].get<double>(), algbw * 2 * (n - 1) / n, 1e-9) << n;
  }
  EXPECT_NE(job.result.report.find("all_reduce bf16 over 2 ranks: 1 calls"), std::string::npos)
      << job.result.report;
}

}  // namespace
}  // namespace goodput::analyze
