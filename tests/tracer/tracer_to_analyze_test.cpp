// goodput's own trace format end to end on the host: the tracer's writer produces a three-step
// trace with NVTX step ranges, launches, a GEMM, an NCCL kernel and elementwise work; `goodput
// analyze` finds the steps by the recorded marker and gets the breakdown computed here by hand.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "profiler/analyze/analysis.hpp"
#include "profiler/trace/reader.hpp"
#include "profiler/trace_format/salvage.hpp"
#include "profiler/trace_format/trace_meta.hpp"
#include "profiler/trace_format/trace_writer.hpp"
#include "tests/tracer/test_util.hpp"

namespace {

using namespace goodput;
constexpr std::uint64_t kBase = 1'700'000'000'000'000'000ull;
constexpr std::uint64_t kUs = 1000;

// Step i's NVTX range: 900 µs from t0 on thread 4243.
trace::RangeRecord step_range(std::uint64_t i, std::uint64_t t0) {
  trace::RangeRecord r;
  r.id = i + 1;
  r.name = "step";
  r.tid = 4243;
  r.start_ns = t0;
  r.end_ns = t0 + 900 * kUs;
  return r;
}

// Step i: NVTX range [i·1000, i·1000+900) µs; launches at +10, +30, +40 (5 µs each); GPU: GEMM
// [+20, +420), NCCL all-reduce [+420, +620) on another stream, elementwise [+620, +720).
void write_steps(trace::TraceWriter& w) {
  const char* names[] = {
      "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_cublas",
      "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
      "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>(int)"};
  const std::uint64_t launch[] = {10, 30, 40}, start[] = {20, 420, 620}, end[] = {420, 620, 720};
  const std::uint32_t stream[] = {7, 13, 7};
  for (std::uint64_t i = 0; i < 3; ++i) {
    const std::uint64_t t0 = kBase + i * 1000 * kUs;
    const auto r = step_range(i, t0);
    w.range(r);
    for (std::uint32_t k = 0; k < 3; ++k) {
      const auto corr = static_cast<std::uint32_t>(3 * i + k + 1);
      w.api({"cudaLaunchKernel",
             "cuda_runtime",
             t0 + launch[k] * kUs,
             t0 + (launch[k] + 5) * kUs,
             4242,
             4243,
             corr,
             211,
             true,
             {}});
      trace::KernelEvent e;
      e.name = names[k];
      e.start_ns = t0 + start[k] * kUs;
      e.end_ns = t0 + end[k] * kUs;
      e.stream = stream[k];
      e.correlation = corr;
      w.kernel(e);
    }
  }
}

std::string write_trace(const std::string& path) {
  trace::TraceWriter w;
  w.open(path, kBase, 4242);
  write_steps(w);
  nlohmann::json meta = trace::base_meta({}, {"train"});
  meta["status"] = "complete";
  meta["capture"] = {{"marker", "step"}};
  meta["dropped_records"] = 0;
  w.finish({{"deviceProperties",
             {{{"id", 0},
               {"name", "NVIDIA H100 80GB HBM3"},
               {"numSms", 132},
               {"computeMajor", 9},
               {"computeMinor", 0}}}},
            {"goodput", meta}},
           "train");
  return path;
}

TEST(TracerToAnalyze, StepsBreakdownAndNcclByHand) {
  const auto path = write_trace(goodput::test::temp_dir("to_analyze") / "trace.json");
  const auto t = traceio::read_trace(path);
  EXPECT_EQ(t.format, "goodput");
  ASSERT_TRUE(t.tracer.has_value());
  EXPECT_EQ(t.tracer->step_marker, "step");

  analyze::AnalyzeOptions opt;
  opt.flops_per_step = 989.4e12 * 100e-6;  // 100 µs at the H100 bf16 datasheet peak
  const auto r = analyze::analyze({{&t, 0.0}}, opt);
  const auto& rank = r.json["ranks"][0];
  EXPECT_EQ(rank["step_marker"], "step");
  EXPECT_EQ(rank["tracer"]["status"], "complete");
  const auto& steps = rank["steps"];
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0]["name"], "step[0]");
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& b = steps[i]["breakdown_ms"];
    EXPECT_NEAR(b["gemm"].get<double>(), 0.4, 1e-12) << i;
    EXPECT_NEAR(b["comm_exposed"].get<double>(), 0.2, 1e-12) << i;
    EXPECT_NEAR(b["other_compute"].get<double>(), 0.1, 1e-12) << i;
    EXPECT_EQ(steps[i]["kernels"], 3);
  }
  // Between steps the GPU idles from +720 to the next step's first kernel at +1020; the launch
  // for it returned at +1015: 295 µs waiting for the host, 5 µs other.
  EXPECT_NEAR(steps[0]["breakdown_ms"]["idle_host_launch"].get<double>(), 0.295, 1e-12);
  EXPECT_NEAR(steps[0]["breakdown_ms"]["idle_other"].get<double>(), 0.005, 1e-12);
  EXPECT_NEAR(steps[0]["mfu"]["datasheet"].get<double>(), 0.10, 1e-9);
  EXPECT_NEAR(steps[2]["mfu"]["datasheet"].get<double>(), 100.0 / 700.0, 1e-9);

  // The NCCL kernel, named by the tracer in snake case, lands in the canonical spelling Kineto
  // traces get too; the tracer records no message sizes, so no bandwidth is claimed.
  const auto& comm = rank["communication"][0];
  EXPECT_EQ(comm["collective"], "all_reduce");
  EXPECT_EQ(comm["algorithm"], "ring");
  EXPECT_EQ(comm["protocol"], "ll");
  EXPECT_EQ(comm["dtype"], "bf16");
  EXPECT_EQ(comm["calls"], 3);
  EXPECT_FALSE(comm.contains("busbw_gbps_median") && comm["busbw_gbps_median"].is_number());
  std::filesystem::remove(path);
}

// Per-step counter ranges as the tracer writes them reach the reader with their metric values,
// and analyze counts them as measured FLOPs (SASS: add + mul + 2·fma).
TEST(TracerToAnalyze, CounterRangesPerStep) {
  const auto path = (goodput::test::temp_dir("counters") / "trace.json").string();
  trace::TraceWriter w;
  w.open(path, kBase, 4242);
  for (std::uint64_t i = 0; i < 2; ++i) {
    const std::uint64_t t0 = kBase + i * 1000 * kUs;
    const auto r = step_range(i, t0);
    w.range(r);
    w.counter_range({"step",
                     0,
                     r.start_ns,
                     r.end_ns,
                     {{"smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 1e9},
                      {"smsp__sass_thread_inst_executed_op_fadd_pred_on.sum", 5e8},
                      {"dram__bytes_read.sum", 2e9}}});
  }
  nlohmann::json meta = trace::base_meta({}, {"train"});
  meta["status"] = "complete";
  meta["capture"] = {{"marker", "step"}};
  meta["counters"] = {{"requested", "sass"}, {"status", "collected"}, {"ranges", 2}};
  w.finish({{"goodput", meta}}, "train");

  const auto t = traceio::read_trace(path);
  ASSERT_EQ(t.counter_ranges.size(), 2u);
  for (const auto& c : t.counter_ranges) {
    EXPECT_EQ(t.names[c.name], "step");
    EXPECT_EQ(c.metrics.size(), 3u);
  }
  ASSERT_TRUE(t.tracer.has_value());
  EXPECT_EQ(t.tracer->counters["status"], "collected");
  const auto r = analyze::analyze({{&t, 0.0}}, analyze::AnalyzeOptions{});
  const auto& hw = r.json["ranks"][0]["hardware_counters"];
  EXPECT_EQ(hw["ranges"], 2);
  EXPECT_DOUBLE_EQ(hw["measured_flops"]["fp32"].get<double>(), 2 * (2e9 + 5e8));
  std::filesystem::remove(path);
}

// A trace salvaged from the partial file of a process that died mid-record: `goodput analyze`
// reads it, analyses the events kept and says the trace is incomplete, and why.
TEST(TracerToAnalyze, SalvagedTraceIsAnalysedAndSaysIncomplete) {
  const auto dir = goodput::test::temp_dir("salvaged");
  std::filesystem::create_directories(dir);
  trace::PartialTrace p;
  p.final_path = (dir / "t.json").string();
  p.path = p.final_path + ".partial." + std::to_string(::getpid());
  p.pid = ::getpid();
  {
    trace::TraceWriter w;  // never finished: closed as a crashing process leaves it
    w.open(p.final_path, kBase, 4242);
    write_steps(w);
  }
  std::ofstream(p.path, std::ios::app) << ",\n{\"args\":{\"cbid\":211,\"corr";
  trace::SalvageContext c;
  c.cause = "the program was killed by signal 11 (Segmentation fault)";
  c.step_marker = "step";
  const auto s = trace::salvage_partial(p, c);
  // Per step: a range, and three launches and kernels with a flow event at each end.
  EXPECT_EQ(s.events_kept, 3u * (1 + 3 * 4));

  const auto t = traceio::read_trace(p.final_path);
  EXPECT_EQ(t.format, "goodput");
  ASSERT_TRUE(t.tracer.has_value());
  EXPECT_EQ(t.tracer->status, "incomplete");
  EXPECT_EQ(t.tracer->step_marker, "step");
  EXPECT_EQ(t.gpu.size(), 9u);
  const auto r = analyze::analyze({{&t, 0.0}}, analyze::AnalyzeOptions{});
  const auto& rank = r.json["ranks"][0];
  EXPECT_EQ(rank["tracer"]["status"], "incomplete");
  EXPECT_EQ(rank["tracer"]["status_reason"], s.status_reason);
  EXPECT_EQ(rank["steps"].size(), 3u);
  EXPECT_NE(r.report.find("note: trace status incomplete (the program was killed by signal 11"),
            std::string::npos)
      << r.report;
  std::filesystem::remove_all(dir);
}

}  // namespace
