// The annotated Chrome trace of `goodput analyze --trace-out`: its step slices, idle gaps and
// counters agree with the analysis, by hand on the hand-made trace.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "harness/core/error.hpp"
#include "profiler/analyze/analysis.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string out;
  char buf[1 << 16];
  for (int n; f && (n = gzread(f, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  if (f) gzclose(f);
  return out;
}

json annotate(const std::string& out_path, const std::string& trace = goodput::testing::kHandMade) {
  const auto t = traceio::read_trace(goodput::testing::write_temp(trace));
  AnalyzeOptions opt;
  opt.flops_per_step = 989.4e12 * 10e-6;  // 10 µs at the H100 bf16 datasheet peak
  opt.trace_out = out_path;
  const auto r = analyze({{&t, 0.0}}, opt);
  EXPECT_EQ(r.json["annotated_trace"]["path"], out_path);
  return json::parse(slurp(out_path));
}

std::vector<json> events(const json& doc, const std::string& ph, const std::string& key,
                         const std::string& value) {
  std::vector<json> out;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == ph && e.value(key, std::string()) == value) out.push_back(e);
  return out;
}

TEST(AnnotatedTrace, StepsGapsAndCountersByHand) {
  const std::string path = goodput::testing::temp_path("annotated_test.json");
  const json doc = annotate(path);
  EXPECT_EQ(doc["goodput"]["schema"], "goodput.annotated-trace");

  const auto steps = events(doc, "X", "cat", "step");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0]["name"], "ProfilerStep#1");
  EXPECT_DOUBLE_EQ(steps[0]["ts"].get<double>(), 15.0);  // first GPU work of step 1
  EXPECT_DOUBLE_EQ(steps[0]["dur"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(steps[1]["dur"].get<double>(), 55.0);

  // Idle gaps: [60,115) waits 52 µs for the launch that returned at 112, then 3 µs other;
  // [135,165) waits 25 µs for the memcpy call that returned at 160, then 5 µs other.
  const auto idle = events(doc, "X", "cat", "idle");
  ASSERT_EQ(idle.size(), 4u);
  const double expect[4][2] = {{60, 52}, {112, 3}, {135, 25}, {160, 5}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(idle[i]["ts"].get<double>(), expect[i][0]) << i;
    EXPECT_DOUBLE_EQ(idle[i]["dur"].get<double>(), expect[i][1]) << i;
    EXPECT_EQ(idle[i]["name"], i % 2 == 0 ? "idle: waiting for host launch" : "idle: other");
  }

  // MFU counter: 10 µs of peak work in a 100 µs and a 55 µs window, then closed at 0.
  const auto mfu = events(doc, "C", "name", "MFU %");
  ASSERT_EQ(mfu.size(), 3u);
  EXPECT_NEAR(mfu[0]["args"]["model vs datasheet"].get<double>(), 10.0, 1e-9);
  EXPECT_NEAR(mfu[1]["args"]["model vs datasheet"].get<double>(), 1000.0 / 55.0, 1e-9);
  EXPECT_DOUBLE_EQ(mfu[2]["ts"].get<double>(), 170.0);
  EXPECT_EQ(mfu[2]["args"]["model vs datasheet"].get<double>(), 0.0);

  // Every GPU event, on its stream's track, categorised by class.
  EXPECT_EQ(events(doc, "X", "cat", "gemm").size(), 2u);
  EXPECT_EQ(events(doc, "X", "cat", "communication").size(), 1u);
  EXPECT_EQ(events(doc, "X", "cat", "memcpy").size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial." + std::to_string(::getpid())));
}

// CUPTI's overhead records get a track of their own, where they happened.
TEST(AnnotatedTrace, ProfilerOverheadTrack) {
  std::string trace = goodput::testing::kHandMade;
  const auto at = trace.find("\"traceEvents\"");
  ASSERT_NE(at, std::string::npos);
  trace.insert(trace.find('[', at) + 1,
               R"({"ph": "X", "cat": "overhead", "name": "Activity Buffer Request", "pid": 1,
                   "tid": 3, "ts": 70, "dur": 2.5},)");
  const std::string path = goodput::testing::temp_path("annotated_overhead_test.json");
  const json doc = annotate(path, trace);
  const auto o = events(doc, "X", "cat", "profiler_overhead");
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0]["name"], "Activity Buffer Request");
  EXPECT_DOUBLE_EQ(o[0]["ts"].get<double>(), 70.0);
  EXPECT_DOUBLE_EQ(o[0]["dur"].get<double>(), 2.5);
  bool named = false;
  for (const auto& e : events(doc, "M", "name", "thread_name"))
    named = named || e["args"]["name"] == "profiler overhead (host)";
  EXPECT_TRUE(named);
  // The hand-made trace alone has no such track.
  EXPECT_TRUE(events(annotate(path), "X", "cat", "profiler_overhead").empty());
}

TEST(AnnotatedTrace, GzipAndEpochTimesStayExact) {
  // Epoch-based microseconds (as in integer-µs traces) keep every nanosecond digit.
  const auto t = traceio::read_trace(goodput::testing::write_temp(R"J({"traceEvents":[
    {"ph":"X","cat":"kernel","name":"k","ts":1679055454045054.125,"dur":3.5,"args":{"stream":7}}
  ]})J"));
  AnalyzeOptions opt;
  opt.trace_out = goodput::testing::temp_path("annotated_test.json.gz");
  analyze({{&t, 0.0}}, opt);
  const std::string text = slurp(opt.trace_out);
  EXPECT_NE(text.find("\"ts\":1679055454045054.125"), std::string::npos);
  EXPECT_NO_THROW(json::parse(text));
}

TEST(AnnotatedTrace, UnwritablePathIsAnInputError) {
  const auto t = traceio::read_trace(goodput::testing::write_temp(goodput::testing::kHandMade));
  AnalyzeOptions opt;
  opt.trace_out = "/nonexistent-dir/annotated.json";
  EXPECT_THROW(analyze({{&t, 0.0}}, opt), InputError);
}

}  // namespace
}  // namespace goodput::analyze
