// Measured FLOPs from hardware-counter ranges: the formula, the real range-profiler trace
// (recomputed here independently from its JSON), and ranges named like steps.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "profiler/analyze/analysis.hpp"
#include "profiler/analyze/counters.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

const std::string kOp = "smsp__sass_thread_inst_executed_op_";

TEST(Counters, SassFlopsAreAddPlusMulPlusTwoFma) {
  const auto f = sass_flops({{kOp + "ffma_pred_on.sum", 10},
                             {kOp + "fadd_pred_on.sum", 3},
                             {kOp + "fmul_pred_on.sum", 4},
                             {kOp + "hmul_pred_on.sum", 2},
                             {kOp + "dfma_pred_on.sum", 1},
                             {"dram__bytes_read.sum", 1e9},
                             {"sm__ops_path_tensor_src_bf16_dst_fp32.sum", 1e12}});
  EXPECT_TRUE(f.any);
  EXPECT_DOUBLE_EQ(f.fp32, 2 * 10 + 3 + 4);
  EXPECT_DOUBLE_EQ(f.fp16, 2);
  EXPECT_DOUBLE_EQ(f.fp64, 2);
  EXPECT_DOUBLE_EQ(f.tensor, 1e12);
  EXPECT_TRUE(f.any_tensor);
  // The sparsity splits repeat the total: not added again.
  EXPECT_DOUBLE_EQ(sass_flops({{"sm__ops_path_tensor_src_bf16_dst_fp32.sum", 8},
                               {"sm__ops_path_tensor_src_bf16_dst_fp32_sparsity_off.sum", 8}})
                       .tensor,
                   8);
  EXPECT_FALSE(sass_flops({{"dram__bytes_read.sum", 5}}).any);
}

TEST(Counters, RealRangeProfilerTrace) {
  GOODPUT_REQUIRE_TRACE(path, "benchmark_result_924719_1679055439_trace.json.gz");
  // Independent sum straight from the JSON.
  gzFile f = gzopen(path.c_str(), "rb");
  ASSERT_TRUE(f);
  std::string text;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  double expect = 0;
  std::size_t ranges = 0;
  const auto doc = nlohmann::json::parse(text);
  for (const auto& e : doc["traceEvents"]) {
    if (e.value("cat", "") != "cuda_profiler_range") continue;
    ++ranges;
    for (const auto& [k, v] : e["args"].items())
      if (k.rfind(kOp, 0) == 0)
        expect += (k.find("fma_") != std::string::npos ? 2 : 1) * v.get<double>();
  }
  ASSERT_EQ(ranges, 77u);

  const auto t = traceio::read_trace(path);
  EXPECT_TRUE(t.gpu.empty());
  const auto r = analyze({{&t, 0.0}}, {});  // counters only: no error, no steps
  const auto& hc = r.json["ranks"][0]["hardware_counters"];
  EXPECT_EQ(hc["ranges"], 77);
  EXPECT_NEAR(hc["measured_flops"]["total"].get<double>(), expect, 1e-6 * expect);
  EXPECT_GT(hc["measured_flops"]["fp32"].get<double>(), 0);
  EXPECT_NE(r.report.find("tensor-core work not included"), std::string::npos);
}

TEST(Counters, RangesNamedLikeStepsGiveMeasuredStepFlops) {
  std::string text = goodput::testing::kHandMade;
  const std::string range =
      R"({"ph":"X","cat":"cuda_profiler_range","name":"ProfilerStep#1","ts":0,"dur":1,"args":{")" +
      kOp + R"(ffma_pred_on.sum": 5e8, ")" + kOp + R"(fadd_pred_on.sum": 1e8}},)";
  text.insert(text.find("\"traceEvents\": [") + 16, range);
  const auto t = traceio::read_trace(goodput::testing::write_temp(text));
  ASSERT_EQ(t.counter_ranges.size(), 1u);
  const auto r = analyze({{&t, 0.0}}, {});
  const auto& s1 = r.json["ranks"][0]["steps"][0];
  EXPECT_DOUBLE_EQ(s1["measured_flops"].get<double>(), 11e8);
  EXPECT_NEAR(s1["measured_tflops"].get<double>(), 11e8 / 100e-6 / 1e12, 1e-9);  // 100 µs window
  EXPECT_FALSE(r.json["ranks"][0]["steps"][1].contains("measured_flops"));
}

}  // namespace
}  // namespace goodput::analyze
