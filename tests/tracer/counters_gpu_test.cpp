// Per-step hardware counters on a GPU: a CUDA program with NVTX steps runs under the tracer with
// --counters, and each measured step carries exactly the FFMA instructions the program executes.
// Skipped without a usable GPU (the program exits 77), and when the device refuses profiling.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/tracer/test_util.hpp"

namespace fs = std::filesystem;
using goodput::test::run_process;

namespace {

constexpr int kSteps = 5, kThreads = 4096, kFmas = 1000;

struct Traced {
  goodput::test::ProcessResult run;
  nlohmann::json doc;
};

Traced trace_steps(const std::string& set, const std::string& steps) {
  const auto dir = goodput::test::temp_dir("goodput_counters_gpu");
  const auto out = dir / "gpu.json";
  const std::map<std::string, std::string> env = {
      {"CUDA_INJECTION64_PATH", GOODPUT_TRACER_LIB_PATH},
      {"NVTX_INJECTION64_PATH", GOODPUT_TRACER_LIB_PATH},
      {"GOODPUT_TRACE_OUTPUT", out.string()},
      {"GOODPUT_TRACE_LAUNCHER_PID", std::to_string(getpid())},
      {"GOODPUT_TRACE_COUNTERS", set},
      {"GOODPUT_TRACE_STEPS", steps},
      {"RANK", ""},
      {"OMPI_COMM_WORLD_RANK", ""},
      {"SLURM_PROCID", ""},
      {"PMI_RANK", ""},
      {"PMIX_RANK", ""}};
  Traced t;
  t.run = run_process({GOODPUT_CUDA_STEPS_PROGRAM, std::to_string(kSteps), std::to_string(kThreads),
                       std::to_string(kFmas)},
                      env);
  if (t.run.exit_code == 0) t.doc = goodput::test::load_json(out);
  return t;
}

std::vector<nlohmann::json> counter_ranges(const nlohmann::json& doc) {
  std::vector<nlohmann::json> out;
  for (const auto& e : doc["traceEvents"])
    if (e.value("cat", "") == "cuda_profiler_range") out.push_back(e);
  return out;
}

#define SKIP_WITHOUT_GPU_OR_PROFILING(t)                                                      \
  do {                                                                                        \
    if ((t).run.exit_code == 77) GTEST_SKIP() << "no usable GPU";                             \
    ASSERT_EQ((t).run.exit_code, 0) << (t).run.err;                                           \
    const auto& c_ = (t).doc["goodput"]["counters"];                                          \
    if (c_["reason"].get<std::string>().find("INSUFFICIENT_PRIVILEGES") != std::string::npos) \
      GTEST_SKIP() << "profiling is restricted on this machine: " << c_["reason"];            \
  } while (0)

}  // namespace

TEST(CountersGpu, SassCountsEveryFfmaOfEachMeasuredStep) {
  const auto t = trace_steps("sass", "1:4");
  SKIP_WITHOUT_GPU_OR_PROFILING(t);
  const auto& c = t.doc["goodput"]["counters"];
  ASSERT_EQ(c["status"], "collected") << c;
  EXPECT_EQ(c["passes"], 1);
  EXPECT_EQ(c["ranges"], 3);
  EXPECT_EQ(c["max_ranges"], 3);
  const auto ranges = counter_ranges(t.doc);
  ASSERT_EQ(ranges.size(), 3u);
  const auto& steps = t.doc["goodput"]["steps"];
  ASSERT_EQ(steps.size(), 3u);
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const auto& r = ranges[i];
    EXPECT_EQ(r["name"], "step");
    EXPECT_DOUBLE_EQ(r["ts"].get<double>(), steps[i]["cpu_start_us"].get<double>());
    const auto& a = r["args"];
    EXPECT_DOUBLE_EQ(a["smsp__sass_thread_inst_executed_op_ffma_pred_on.sum"].get<double>(),
                     static_cast<double>(kThreads) * kFmas)
        << r;
    EXPECT_DOUBLE_EQ(a["smsp__sass_thread_inst_executed_op_fadd_pred_on.sum"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(a["smsp__sass_thread_inst_executed_op_dfma_pred_on.sum"].get<double>(), 0.0);
  }
  // The kernels are still traced alongside the counters.
  EXPECT_EQ(t.doc["goodput"]["records"]["kernels"], 3);
}

TEST(CountersGpu, FlopsSetOnAnOpenWindow) {
  const auto t = trace_steps("flops", "");
  SKIP_WITHOUT_GPU_OR_PROFILING(t);
  const auto& c = t.doc["goodput"]["counters"];
  if (c["passes"].get<int>() > 1) {
    // Not a Hopper: the set does not fit one pass there, and the trace must say so.
    EXPECT_EQ(c["status"], "not_collected");
    EXPECT_NE(c["reason"].get<std::string>().find("passes"), std::string::npos) << c;
    return;
  }
  ASSERT_EQ(c["status"], "collected") << c;
  const auto ranges = counter_ranges(t.doc);
  ASSERT_EQ(ranges.size(), static_cast<std::size_t>(kSteps));
  for (const auto& r : ranges) {
    EXPECT_GT(r["args"]["gpu__time_duration.sum"].get<double>(), 0.0) << r;
    EXPECT_TRUE(r["args"].contains("dram__bytes_read.sum")) << r;
    // No tensor-core work in this program.
    EXPECT_DOUBLE_EQ(r["args"]["sm__ops_path_tensor_src_bf16_dst_fp32.sum"].get<double>(), 0.0);
  }
}
