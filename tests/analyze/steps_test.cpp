// Steps, per-step breakdown, MFU and its waterfall on a hand-made trace (every number computed by
// hand below), and on the real traces: step times, NCCL busbw, stragglers, read speed.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>

#include <zlib.h>

#include "harness/core/error.hpp"
#include "profiler/analyze/analysis.hpp"
#include "profiler/analyze/flat_index.hpp"
#include "profiler/analyze/peaks.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

using goodput::testing::kHandMade;

TEST(Steps, HandMadeBreakdown) {
  const auto t = traceio::read_trace(goodput::testing::write_temp(kHandMade));
  Classifier c;
  std::vector<KernelClass> cls;
  for (traceio::NameId i = 0; i < t.names.size(); ++i) cls.push_back(c.classify(t.names[i]));
  const auto steps = find_steps(t, {});
  ASSERT_EQ(steps.size(), 2u);
  const auto a = analyze_steps(t, steps, cls);
  ASSERT_EQ(a.steps.size(), 2u);
  const auto& s1 = a.steps[0];
  EXPECT_EQ(s1.window_start, 15000);
  EXPECT_EQ(s1.window_end, 115000);
  EXPECT_EQ(s1.gemm, 20000);
  EXPECT_EQ(s1.other_compute, 10000);
  EXPECT_EQ(s1.comm_exposed, 15000);
  EXPECT_EQ(s1.comm_overlapped, 15000);
  EXPECT_EQ(s1.memory, 0);
  EXPECT_EQ(s1.idle_launch, 52000);  // [60,115): the next kernel's launch returned at 112
  EXPECT_EQ(s1.idle_other, 3000);
  EXPECT_EQ(s1.kernels, 3u);
  EXPECT_EQ(s1.comm_kernels, 1u);
  const auto& s2 = a.steps[1];
  EXPECT_EQ(s2.window(), 55000);
  EXPECT_EQ(s2.gemm, 20000);
  EXPECT_EQ(s2.idle_launch, 25000);  // [135,165): the memcpy call returned at 160
  EXPECT_EQ(s2.idle_other, 5000);
  EXPECT_EQ(s2.memory, 5000);
  for (const auto& s : a.steps)
    EXPECT_EQ(s.gemm + s.attention + s.other_compute + s.comm_exposed + s.memory + s.idle(),
              s.window());
}

// A host that runs ahead of the GPU: step 2's input copy, on its own stream, runs under step 1's
// compute (at 115 µs), and step 1 also starts a D2H copy that outlasts it (20 to 3020 µs).
// Windows end at the next step's first GPU work but not before the step's own kernels end, and
// copies never hold a boundary back: 1000 µs each (step 1 from 15 µs).
TEST(Steps, CopiesOnOtherStreamsDoNotMoveStepBoundaries) {
  auto ev = [](const std::string& cat, const std::string& name, int ts, int dur, int corr,
               int stream) {
    std::string e = "{\"ph\": \"X\", \"cat\": \"" + cat + "\", \"name\": \"" + name +
                    "\", \"pid\": 1, \"tid\": 1, \"ts\": " + std::to_string(ts) +
                    ", \"dur\": " + std::to_string(dur);
    if (corr >= 0) e += ", \"args\": {\"correlation\": " + std::to_string(corr);
    if (corr >= 0 && stream >= 0) e += ", \"stream\": " + std::to_string(stream);
    return e + (corr >= 0 ? "}}" : "}");
  };
  const std::string gemm = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64";
  std::string text = "{\"traceEvents\": [";
  for (const auto& e :
       {ev("user_annotation", "ProfilerStep#1", 0, 100, -1, -1),
        ev("user_annotation", "ProfilerStep#2", 100, 100, -1, -1),
        ev("user_annotation", "ProfilerStep#3", 200, 100, -1, -1),
        ev("cuda_runtime", "cudaLaunchKernel", 10, 5, 1, -1),
        ev("cuda_runtime", "cudaMemcpyAsync", 18, 2, 2, -1),
        ev("cuda_runtime", "cudaMemcpyAsync", 110, 5, 3, -1),
        ev("cuda_runtime", "cudaLaunchKernel", 120, 5, 4, -1),
        ev("cuda_runtime", "cudaLaunchKernel", 210, 5, 5, -1), ev("kernel", gemm, 15, 1000, 1, 7),
        ev("gpu_memcpy", "Memcpy DtoH (Device -> Pinned)", 20, 3000, 2, 40),
        ev("gpu_memcpy", "Memcpy HtoD (Pinned -> Device)", 115, 20, 3, 30),
        ev("kernel", gemm, 1015, 1000, 4, 7), ev("kernel", gemm, 2015, 1000, 5, 7)})
    text += (text.back() == '[' ? "" : ", ") + e;
  text += "]}";
  const auto t = traceio::read_trace(goodput::testing::write_temp(text));
  Classifier c;
  std::vector<KernelClass> cls;
  for (traceio::NameId i = 0; i < t.names.size(); ++i) cls.push_back(c.classify(t.names[i]));
  const auto a = analyze_steps(t, find_steps(t, {}), cls);
  ASSERT_EQ(a.steps.size(), 3u);
  EXPECT_EQ(a.steps[0].window_start, 15000);
  for (const auto& s : a.steps) {
    EXPECT_EQ(s.window(), 1000000) << s.name;
    EXPECT_EQ(s.gemm, 1000000) << s.name;
  }
}

TEST(Steps, HandMadeMfuAndWaterfall) {
  const auto t = traceio::read_trace(goodput::testing::write_temp(kHandMade));
  AnalyzeOptions opt;
  opt.flops_per_step = 989.4e12 * 10e-6;  // 10 µs at the H100 bf16 datasheet peak
  const auto r = analyze({{&t, 0.0}}, opt);
  const auto& s1 = r.json["ranks"][0]["steps"][0];
  EXPECT_NEAR(s1["mfu"]["datasheet"].get<double>(), 0.10, 1e-9);
  const auto& wf = s1["waterfall"];
  EXPECT_NEAR(wf["mfu_pct"].get<double>(), 10.0, 1e-9);
  const double expect[] = {55, 15, 0, 10, 10};  // idle, comm, memory, non-matmul, matmul ineff.
  double sum = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(wf["terms"][i]["seconds"].get<double>(), expect[i] * 1e-6, 1e-12) << i;
    sum += wf["terms"][i]["pct"].get<double>();
  }
  EXPECT_NEAR(sum + wf["mfu_pct"].get<double>(), 100.0, 1e-9);
  // NCCL: 4 MB all-reduce over 4 ranks in 30 µs: algbw 133.3 GB/s, busbw ×2·3/4.
  const auto& comm = r.json["ranks"][0]["communication"][0];
  EXPECT_NEAR(comm["busbw_gbps_median"].get<double>(), 4e6 / 30e-6 * 1.5 / 1e9, 1e-6);
  EXPECT_NE(r.report.find("ProfilerStep#1"), std::string::npos);
}

TEST(Steps, MarkerAndWindow) {
  const auto t = traceio::read_trace(goodput::testing::write_temp(kHandMade));
  StepMarker m;
  m.window_us = std::make_pair(0.0, 50.0);
  const auto w = find_steps(t, m);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].cpu_start, 15000);
  EXPECT_EQ(w[0].cpu_end, 65000);
  m = {};
  m.name = "ProfilerStep#2";
  EXPECT_EQ(find_steps(t, m).size(), 1u);
}

TEST(Nccl, BusbwFactors) {
  EXPECT_DOUBLE_EQ(busbw_factor("allreduce", 8), 2.0 * 7 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("_allgather_base", 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("reduce_scatter", 4), 3.0 / 4);
  EXPECT_DOUBLE_EQ(busbw_factor("all_to_all", 2), 0.5);
  EXPECT_DOUBLE_EQ(busbw_factor("broadcast", 8), 1.0);
  // nccl-tests' gather.cu and scatter.cu: (n-1)/n, as all_gather's.
  EXPECT_DOUBLE_EQ(busbw_factor("gather", 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("scatter", 4), 3.0 / 4);
  EXPECT_DOUBLE_EQ(busbw_factor("reduce", 8), 1.0);
  EXPECT_EQ(nccl_dtype_bytes("BFloat16"), 2);
  EXPECT_EQ(nccl_dtype_bytes("Float"), 4);
  EXPECT_EQ(nccl_dtype_bytes("Long"), 8);
}

TEST(RealTraces, NcclDataStepsAndBusbw) {
  GOODPUT_REQUIRE_TRACE(path, "nccl_data.json.gz");
  const auto t = traceio::read_trace(path);
  const auto r = analyze({{&t, 0.0}}, {});
  const auto& steps = r.json["ranks"][0]["steps"];
  ASSERT_EQ(steps.size(), 3u);
  const double cpu_ms[] = {222.442191, 219.726905, 224.936243};  // README reference
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(steps[i]["cpu_ms"].get<double>(), cpu_ms[i], 1e-6);
  // busbw of each all-reduce call by hand from its args: bytes / time × 2(n-1)/n.
  std::vector<double> bb;
  for (const auto& g : t.gpu) {
    const auto* n = t.nccl_of(g);
    if (n && n->collective == "allreduce" && g.dur > 0)
      bb.push_back(static_cast<double>(n->in_nelems) * 4 / (static_cast<double>(g.dur) * 1e-9) *
                   (2.0 * (n->group_size - 1) / n->group_size) / 1e9);
  }
  ASSERT_FALSE(bb.empty());
  std::sort(bb.begin(), bb.end());
  bool found = false;
  for (const auto& c : r.json["ranks"][0]["communication"])
    if (c["collective"] == "all_reduce") {
      found = true;
      EXPECT_NEAR(
          c["busbw_gbps_median"].get<double>(),
          bb.size() % 2 ? bb[bb.size() / 2] : (bb[bb.size() / 2 - 1] + bb[bb.size() / 2]) / 2,
          1e-9);
    }
  EXPECT_TRUE(found);
  // The A100-PG509-200 (108 SMs, 40 GB) is the A100 SXM4 40GB board: datasheet peaks apply.
  const auto& peaks = r.json["ranks"][0]["peaks"];
  EXPECT_EQ(peaks["spec_match"], "exact");
  EXPECT_EQ(peaks["spec_name"], "A100 SXM4 40GB");
  EXPECT_DOUBLE_EQ(peaks["datasheet"]["bf16"].get<double>(), 312e12);
}

TEST(RealTraces, SampledRanksStragglers) {
  GOODPUT_REQUIRE_TRACE(p0, "sampled_rank-0.json.gz");
  GOODPUT_REQUIRE_TRACE(p1, "sampled_rank-1.json.gz");
  const auto ts = traceio::read_traces({p0, p1});
  const auto r = analyze({{&ts[0], 0.0}, {&ts[1], 0.0}}, {});
  ASSERT_EQ(r.json["stragglers"].size(), 2u);
  for (const auto& s : r.json["stragglers"]) {
    const int slow = s["slowest_rank"].get<int>();
    const std::string name = s["step"].get<std::string>();
    double w[2] = {0, 0};
    for (int k = 0; k < 2; ++k)
      for (const auto& st : r.json["ranks"][k]["steps"])
        if (st["name"] == name) w[k] = st["gpu_ms"].get<double>();
    EXPECT_GE(w[slow], w[1 - slow]);
    EXPECT_NEAR(s["spread_pct"].get<double>(), 100 * std::abs(w[0] - w[1]) / ((w[0] + w[1]) / 2),
                1e-6);
  }
  // No deviceProperties: the peak is not discoverable, and the report says how to give one.
  EXPECT_NE(r.report.find("--gpu"), std::string::npos);
  EXPECT_EQ(r.json["ranks"][0]["peaks"]["spec_match"], "none");
}

TEST(RealTraces, H100InferenceTraceHasExecutedMfu) {
  GOODPUT_REQUIRE_TRACE(path, "Falconsai_nsfw_image_detection__1016002.json.gz");
  const auto t = traceio::read_trace(path);
  const auto r = analyze({{&t, 0.0}}, {});
  const auto& s = r.json["ranks"][0]["steps"][0];
  EXPECT_GT(s["executed_flops"].get<double>(), 0);
  EXPECT_GT(s["executed_mfu"].get<double>(), 0);
  EXPECT_LT(s["executed_mfu"].get<double>(), 1);
}

TEST(ExampleTrace, SyntheticQuickStartShowsMfu) {
  const std::string dir = GOODPUT_SOURCE_DIR;
  const auto t = traceio::read_trace(dir + "/examples/traces/synthetic-kineto-llm.json.gz");
  AnalyzeOptions opt;
  opt.model_file = dir + "/examples/models/synthetic-gpt-small.json";
  const auto r = analyze({{&t, 0.0}}, opt);
  const auto& steps = r.json["ranks"][0]["steps"];
  ASSERT_EQ(steps.size(), 4u);
  for (const auto& s : steps) {
    const double mfu = s["mfu"]["datasheet"].get<double>();
    EXPECT_GT(mfu, 0.05);
    EXPECT_LT(mfu, 0.9);
  }
  EXPECT_TRUE(r.json["ranks"][0]["steady_state"].contains("mfu_median"));
}

TEST(StepTable, ShortTablesListEveryStep) {
  const std::vector<double> t = {5, 1, 2, 3};
  const auto rows = step_rows_shown(t, 1, 24);
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].index, i);
    EXPECT_EQ(rows[i].tag, "");
  }
  EXPECT_EQ(step_rows_shown(std::vector<double>(100, 1.0), 1, 0).size(), 100u);  // 0: all
  // Picks that cover the whole table list it plainly, untagged.
  const auto three = step_rows_shown({3, 2, 1}, 1, 2);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[2].tag, "");
}

TEST(StepTable, LongTablesShowWarmupFastestMedianSlowest) {
  // 30 steps: step 0 warm-up (slowest of all, not in the steady state); steady steps 1..29
  // take 10 + i, except step 7 (fastest, 1) and step 20 (slowest, 100).
  std::vector<double> t(30);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = 10.0 + static_cast<double>(i);
  t[0] = 500;
  t[7] = 1;
  t[20] = 100;
  const auto rows = step_rows_shown(t, 1, 24, 3);
  // Sorted steady times: 7 (1), then 1..6, 8..19, 21..29 (11..39), then 20 (100); 29 steps,
  // median the 15th fastest: 7, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15 -> step 15.
  std::vector<std::pair<std::size_t, std::string>> got;
  for (const auto& r : rows) got.emplace_back(r.index, r.tag);
  const std::vector<std::pair<std::size_t, std::string>> want = {
      {0, "warm-up"},  {7, "fastest"},      {15, "median"},
      {20, "slowest"}, {28, "3rd slowest"}, {29, "2nd slowest"}};
  EXPECT_EQ(got, want);
}

TEST(StepTable, ReportElidesAndSaysHow) {
  // The project's own H200 example: 50 steps of GPT-124M.
  const std::string dir = GOODPUT_SOURCE_DIR;
  const auto t = traceio::read_trace(dir + "/examples/traces/h200-gpt124m-goodput.json.gz");
  AnalyzeOptions opt;
  opt.marker.name = "step";
  const auto r = analyze({{&t, 0.0}}, opt);
  const std::size_t steps = r.json["ranks"][0]["steps"].size();
  ASSERT_GT(steps, 24u);
  EXPECT_NE(r.report.find("<- warm-up"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("<- slowest"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("<- median"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("8 of " + std::to_string(steps) + " steps shown"), std::string::npos)
      << r.report;
  opt.step_rows = 0;
  const auto all = analyze({{&t, 0.0}}, opt);
  EXPECT_EQ(all.report.find("steps shown"), std::string::npos);
  EXPECT_EQ(all.report.find("<- "), std::string::npos);
  EXPECT_NE(all.report.find("step[" + std::to_string(steps - 1) + "]"), std::string::npos);
  EXPECT_EQ(all.json, r.json);  // the table's length changes the text only
}

// A rank of a job with `steps` steps: rank r's steps take 100 + r µs, and the step before
// ProfilerStep#18 takes 3r µs longer still (its largest spread across ranks).
std::string job_rank(int rank, int steps) {
  std::string ev;
  auto add = [&](const std::string& e) { ev += (ev.empty() ? "" : ",\n") + e; };
  const int period = 100 + rank;
  for (int k = 0; k < steps; ++k) {
    const int t0 = k * period + (k >= 17 ? 3 * rank : 0);
    const std::string corr = std::to_string(k + 1), ts = std::to_string(t0);
    add(R"({"ph":"X","cat":"user_annotation","name":"ProfilerStep#)" + corr + R"(","tid":1,"ts":)" +
        ts + R"(,"dur":)" + std::to_string(period - 1) + "}");
    add(R"({"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","tid":1,"ts":)" +
        std::to_string(t0 + 1) + R"(,"dur":1,"args":{"correlation":)" + corr + "}}");
    add(R"({"ph":"X","cat":"kernel","name":"volta_sgemm_128x32_nt","ts":)" +
        std::to_string(t0 + 5) + R"(,"dur":20,"args":{"stream":7,"correlation":)" + corr + "}}");
  }
  return R"({"distributedInfo":{"rank":)" + std::to_string(rank) +
         R"(,"world_size":30},"traceEvents":[)" + ev + "]}";
}

TEST(RankTable, ManyRanksShowFastestMedianSlowestAndStragglerCounts) {
  std::vector<traceio::RankTrace> traces;
  for (int r = 0; r < 30; ++r)
    traces.push_back(traceio::read_trace(goodput::testing::write_temp(job_rank(r, 30))));
  std::vector<TraceInput> in;
  for (const auto& t : traces) in.push_back({&t, 0.0});
  AnalyzeOptions opt;
  opt.gpu = "H100 SXM5 80GB";
  const auto r = analyze(in, opt);
  EXPECT_NE(r.report.find("7 of 30 ranks shown"), std::string::npos) << r.report;
  // Slowest in 29 of 30 steps (the last step's windows are equal), waited for in none (every
  // rank's GEMM takes as long).
  EXPECT_NE(r.report.find("29 of 30 steps  0 of 30 steps  <- slowest"), std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("  ... 13 rank(s)"), std::string::npos) << r.report;
  // Of 30 ranks only the median and the slowest rank's sections are printed.
  EXPECT_NE(r.report.find("(median rank)\nrank 14 "), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("(slowest rank)\nrank 29 "), std::string::npos) << r.report;
  EXPECT_EQ(r.report.find("\nrank 3 "), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("(28 other ranks' sections left out"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("the 5 steps of largest spread of 30"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("  ProfilerStep#17: slowest rank 29"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("slowest rank per step: rank 29 in 29 of 30"), std::string::npos)
      << r.report;
  EXPECT_EQ(r.json["slowest_rank_counts"]["29"], 29);
  const auto& pct = r.json["ranks"][3]["steady_state"]["breakdown_pct"];
  double sum = 0;
  for (const auto& [k, v] : pct.items()) sum += v.get<double>();
  EXPECT_NEAR(sum, 100.0, 1e-9);  // the classes partition the steady steps' GPU time
  opt.step_rows = 0;
  const auto all = analyze(in, opt);
  EXPECT_EQ(all.report.find("ranks shown"), std::string::npos);
  // The left-out ranks' notes are printed once per text, with the ranks that have it.
  AnalyzeOptions no_gpu;
  const auto unnamed = analyze(in, no_gpu).report;
  EXPECT_NE(unnamed.find("notes of the other ranks:\n  ranks 0-13, 15-28: the trace does not "
                         "name its GPU"),
            std::string::npos)
      << unnamed;
  EXPECT_NE(all.report.find("\nrank 3 "), std::string::npos);
  EXPECT_EQ(all.report.find("sections left out"), std::string::npos);
  EXPECT_NE(all.report.find("  ProfilerStep#2: slowest rank 29"), std::string::npos);
}

TEST(Faults, NoGpuEventsIsAnInputError) {
  const auto t = traceio::read_trace(goodput::testing::write_temp(
      R"J({"traceEvents":[{"ph":"X","cat":"cpu_op","name":"aten::mm","ts":1,"dur":1,"args":{}}]})J"));
  EXPECT_THROW(analyze({{&t, 0.0}}, {}), InputError);
}

}  // namespace
}  // namespace goodput::analyze

namespace goodput::analyze {
namespace {

TEST(Peaks, CalibratedFileReadDefensively) {
  const auto path = goodput::testing::write_temp(R"J({"peak_profile": {
    "gemm": {"bf16": {"best": {"flops_per_s": 8.0e14}}, "fp8_e4m3": {"best": {"flops_per_s": 1.3e15}}},
    "flops": {"tf32": {"reachable": 4.0e14}}}})J");
  const auto p = read_calibrated_peaks(path);
  EXPECT_DOUBLE_EQ(p.at("bf16"), 8.0e14);
  EXPECT_DOUBLE_EQ(p.at("fp8"), 1.3e15);
  EXPECT_DOUBLE_EQ(p.at("tf32"), 4.0e14);
  EXPECT_THROW(read_calibrated_peaks(goodput::testing::write_temp(R"J({"results": []})J")),
               InputError);
  // MFU against the calibrated peak of the hand-made trace's first step (100 µs window).
  const auto t = traceio::read_trace(goodput::testing::write_temp(kHandMade));
  AnalyzeOptions opt;
  opt.flops_per_step = 8.0e14 * 10e-6;
  opt.peak_file = path;
  const auto r = analyze({{&t, 0.0}}, opt);
  const auto& s1 = r.json["ranks"][0]["steps"][0];
  EXPECT_NEAR(s1["mfu"]["calibrated"].get<double>(), 0.10, 1e-9);
  EXPECT_EQ(s1["waterfall"]["peak"], "calibrated");
}

}  // namespace
}  // namespace goodput::analyze

namespace goodput::analyze {
namespace {

// goodput's tracer records the host's side of each step (goodput.steps_host, joined with
// goodput.steps by range id); analyze shows it beside the step it belongs to, matched by the step
// range's start.
TEST(Steps, TracerHostUsagePerStep) {
  const char* trace = R"({
  "traceEvents": [
    {"ph": "X", "cat": "user_annotation", "name": "step", "pid": 1, "tid": 5, "ts": 10, "dur": 80},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 5, "ts": 12, "dur": 3, "args": {"correlation": 1}},
    {"ph": "X", "cat": "kernel", "name": "elementwise_kernel", "pid": 1, "tid": 7, "ts": 20, "dur": 30, "args": {"correlation": 1, "device": 0, "stream": 7}},
    {"ph": "X", "cat": "user_annotation", "name": "step", "pid": 1, "tid": 5, "ts": 100.5, "dur": 80},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 5, "ts": 102, "dur": 3, "args": {"correlation": 2}},
    {"ph": "X", "cat": "kernel", "name": "elementwise_kernel", "pid": 1, "tid": 7, "ts": 110, "dur": 30, "args": {"correlation": 2, "device": 0, "stream": 7}}
  ],
  "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "numSms": 132, "computeMajor": 9, "computeMinor": 0}],
  "goodput": {"schema": "goodput.trace", "status": "complete", "capture": {"marker": "step"},
    "steps": [{"index": 0, "range id": 7, "cpu_start_us": 10.0}, {"index": 1, "range id": 9, "cpu_start_us": 100.5},
              {"index": 2, "range id": 11, "cpu_start_us": 500.0}],
    "steps_host": [
      {"range id": 7, "step": 0, "wall_ms": 0.08, "process_cpu_ms": 1.75, "program_cpu_ms": 1.5, "tracer_cpu_ms": 0.25,
       "minor_faults": 4, "involuntary_switches": 3, "steal_ms": 0.5},
      {"range id": 9, "step": 1, "wall_ms": 0.08, "process_cpu_ms": 2.0, "program_cpu_ms": 2.0, "tracer_cpu_ms": 0.0,
       "minor_faults": 0, "involuntary_switches": 0, "steal_ms": null},
      {"range id": 42, "step": 5, "program_cpu_ms": 9.0},
      "not an object"]}
})";
  const auto t = traceio::read_trace(goodput::testing::write_temp(trace));
  ASSERT_TRUE(t.tracer);
  ASSERT_EQ(t.tracer->steps_host.size(), 2u);  // range 42 has no step; the string is no entry
  EXPECT_EQ(t.tracer->steps_host[1].cpu_start_ns, 100500);
  const auto r = analyze({{&t, 0.0}}, {});
  const auto& steps = r.json["ranks"][0]["steps"];
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0]["host"]["program_cpu_ms"], 1.5);
  EXPECT_EQ(steps[0]["host"]["tracer_cpu_ms"], 0.25);
  EXPECT_EQ(steps[0]["host"]["steal_ms"], 0.5);
  EXPECT_EQ(steps[0]["host"]["involuntary_switches"], 3);
  EXPECT_TRUE(steps[1]["host"]["steal_ms"].is_null());
  EXPECT_NE(r.report.find("prog-cpu tracer  steal  isw"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("     1.5    0.2    0.5    3"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("     2.0    0.0      -    0"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("steal = CPU ms the VM's host took"), std::string::npos);

  // No overhead events in this trace: no overhead line or field.
  EXPECT_EQ(r.report.find("profiler overhead"), std::string::npos);
  EXPECT_FALSE(steps[0].contains("profiler_overhead_ms"));

  // A Kineto trace has no such columns.
  const auto k = traceio::read_trace(goodput::testing::write_temp(kHandMade));
  EXPECT_EQ(analyze({{&k, 0.0}}, {}).report.find("prog-cpu"), std::string::npos);
}

}  // namespace
}  // namespace goodput::analyze

namespace goodput::analyze {
namespace {

// CUPTI's overhead records (cat "overhead") are summed per step by start time and summarised per
// kind; the names of older goodput traces ("CUPTI overhead 458752") read as Kineto's.
TEST(Steps, ProfilerOverheadPerStepAndKind) {
  const char* trace = R"({"traceEvents": [
    {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#1", "pid": 1, "tid": 5, "ts": 10, "dur": 80},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 5, "ts": 12, "dur": 3, "args": {"correlation": 1}},
    {"ph": "X", "cat": "kernel", "name": "elementwise_kernel", "pid": 1, "tid": 7, "ts": 20, "dur": 30, "args": {"correlation": 1, "device": 0, "stream": 7}},
    {"ph": "X", "cat": "overhead", "name": "CUPTI overhead 458752", "pid": 1, "tid": 5, "ts": 30, "dur": 2.5},
    {"ph": "X", "cat": "overhead", "name": "Activity Buffer Request", "pid": -1, "tid": 0, "ts": 60, "dur": 1.5},
    {"ph": "X", "cat": "overhead", "name": "Lazy Function Loading", "pid": -1, "tid": 0, "ts": 200, "dur": 5}
  ],
  "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "numSms": 132, "computeMajor": 9, "computeMinor": 0}]})";
  const auto t = traceio::read_trace(goodput::testing::write_temp(trace));
  ASSERT_EQ(t.overheads.size(), 3u);
  EXPECT_EQ(t.names[t.overheads[0].name], "Activity Buffer Request");
  EXPECT_EQ(t.overheads[0].dur, 2500);
  const auto r = analyze({{&t, 0.0}}, {});
  const auto& rank = r.json["ranks"][0];
  EXPECT_NEAR(rank["steps"][0]["profiler_overhead_ms"].get<double>(), 0.004, 1e-12);
  const auto& po = rank["profiler_overhead"];
  ASSERT_EQ(po.size(), 2u);
  EXPECT_EQ(po[0]["name"], "Lazy Function Loading");  // the largest total first
  EXPECT_EQ(po[0]["count"], 1);
  EXPECT_TRUE(po[0]["max_in_step"].is_null());  // after the last step
  EXPECT_EQ(po[1]["name"], "Activity Buffer Request");
  EXPECT_EQ(po[1]["count"], 2);
  EXPECT_NEAR(po[1]["total_ms"].get<double>(), 0.004, 1e-12);
  EXPECT_NEAR(po[1]["max_ms"].get<double>(), 0.0025, 1e-12);
  EXPECT_EQ(po[1]["max_in_step"], "ProfilerStep#1");
  EXPECT_NE(
      r.report.find("profiler overhead (CUPTI, on the host): Lazy Function Loading 1 x 0.0 ms "
                    "(max 0.01 ms); Activity Buffer Request 2 x 0.0 ms (max 0.00 ms, "
                    "ProfilerStep#1)"),
      std::string::npos)
      << r.report;
}

// The B200 trace in ../shared/traces holds Kineto's own overhead records.
TEST(RealTraces, KinetoOverheadRecords) {
  GOODPUT_REQUIRE_TRACE(path, "eager_trace.json.gz");
  const auto t = traceio::read_trace(path);
  ASSERT_EQ(t.overheads.size(), 9u);
  std::size_t buffer_requests = 0;
  for (const auto& o : t.overheads)
    buffer_requests += t.names[o.name] == "Activity Buffer Request" ? 1 : 0;
  EXPECT_EQ(buffer_requests, 1u);
}

}  // namespace
}  // namespace goodput::analyze

namespace goodput::analyze {
namespace {

// The order of the events in a file is not part of the result: the same events reversed and
// shuffled give the same report, field by field (Kineto writes them in no guaranteed order).
TEST(RealTraces, EventOrderDoesNotChangeTheReport) {
  for (const char* name : {"dc3b0e7228dd_851.1752215573993169006.pt.trace.json",
                           "sampled_rank-0.json.gz", "nccl_data.json.gz"}) {
    GOODPUT_REQUIRE_TRACE(path, name);
    SCOPED_TRACE(name);
    const auto original = traceio::read_trace(path);
    nlohmann::json doc;
    {
      // The same text, events reordered: written back by nlohmann, which keeps numbers exact.
      traceio::RankTrace probe;
      std::string text;
      if (std::string(name).ends_with(".gz")) {
        gzFile f = gzopen(path.c_str(), "rb");
        ASSERT_NE(f, nullptr);
        char buf[1 << 16];
        for (int n; (n = gzread(f, buf, sizeof buf)) > 0;)
          text.append(buf, static_cast<std::size_t>(n));
        gzclose(f);
      } else {
        std::ifstream in(path, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(in), {});
      }
      doc = nlohmann::json::parse(text);
    }
    auto report = [](const traceio::RankTrace& t) {
      AnalyzeOptions opt;
      auto j = analyze({{&t, 0.0}}, opt).json;
      for (auto& r : j["ranks"]) r.erase("path");
      j.erase("inputs");
      return j;
    };
    const auto expected = report(original);
    auto& events = doc["traceEvents"];
    std::reverse(events.begin(), events.end());
    const auto reversed = traceio::read_trace(goodput::testing::write_temp(doc.dump()));
    EXPECT_EQ(report(reversed), expected);
    std::shuffle(events.begin(), events.end(), std::mt19937(7));
    const auto shuffled = traceio::read_trace(goodput::testing::write_temp(doc.dump()));
    EXPECT_EQ(report(shuffled), expected);
  }
}

TEST(FlatIndex, FirstOfEqualIdsWinsInAnyOrder) {
  FlatIndex<int> idx;
  for (const auto& [id, v] :
       std::vector<std::pair<std::int64_t, int>>{{7, 1}, {3, 2}, {7, 3}, {-4, 4}, {3, 5}, {100, 6}})
    idx.add(id, v);
  idx.build();
  ASSERT_NE(idx.find(7), nullptr);
  EXPECT_EQ(*idx.find(7), 1);
  EXPECT_EQ(*idx.find(3), 2);
  EXPECT_EQ(*idx.find(-4), 4);
  EXPECT_EQ(*idx.find(100), 6);
  EXPECT_EQ(idx.find(5), nullptr);
  EXPECT_EQ(idx.find(101), nullptr);
  FlatIndex<int> empty;
  empty.build();
  EXPECT_EQ(empty.find(0), nullptr);
}

}  // namespace
}  // namespace goodput::analyze
