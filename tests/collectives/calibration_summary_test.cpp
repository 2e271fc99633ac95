// The interconnect section of `goodput calibrate`'s peak profile, from collective results.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collectives/calibration.hpp"

using goodput::collectives::best_busbw;

namespace {

nlohmann::json result(const std::string& coll, double busbw, int nranks, const char* status) {
  return {{"name", coll + "/fp32"},
          {"kind", "collective"},
          {"status", status},
          {"params", {{"collective", coll}, {"nranks", nranks}}},
          {"rates", {{"busbw", busbw}, {"algbw", 2 * busbw}}}};
}

}  // namespace

TEST(CalibrationSummary, BestBusbwPerCollectiveWithItsRankCount) {
  const nlohmann::json results = {result("all_reduce", 100e9, 8, "ok"),
                                  result("all_reduce", 300e9, 8, "ok"),
                                  result("all_reduce", 900e9, 8, "error"),
                                  result("all_gather", 200e9, 8, "ok"),
                                  {{"name", "memory/copy"}, {"kind", "memory"}, {"status", "ok"}}};
  const auto best = best_busbw(results);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best["all_reduce"]["busbw"], 300e9);
  EXPECT_EQ(best["all_reduce"]["algbw"], 600e9);
  EXPECT_EQ(best["all_reduce"]["ranks"], 8);  // params.nranks, as collective results name it
  EXPECT_EQ(best["all_gather"]["result"], "all_gather/fp32");
}

// The collective results of a real calibration (one H200): one rank, busbw 0 by definition.
TEST(CalibrationSummary, RealH200Calibration) {
  const auto path = std::filesystem::path(GOODPUT_RESULTS_DIR) / "h200" / "calibrate-quick.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  const auto doc = nlohmann::json::parse(std::ifstream(path));
  const auto best = best_busbw(doc["results"]);
  ASSERT_TRUE(best.contains("all_reduce"));
  ASSERT_TRUE(best.contains("all_gather"));
  for (const auto& [coll, b] : best.items()) {
    EXPECT_EQ(b["ranks"], 1) << coll;
    EXPECT_EQ(b["busbw"], 0.0) << coll;
    EXPECT_GT(b["algbw"].get<double>(), 1e12) << coll;  // a local copy at HBM speed
  }
}
