#include "harness/cli/calibration.hpp"

#include <gtest/gtest.h>

#include "tests/harness/synthetic.hpp"

namespace goodput {
namespace {

TEST(Calibration, FileSafeSku) {
  EXPECT_EQ(cli::file_safe("H100 SXM5 80GB"), "h100-sxm5-80gb");
  EXPECT_EQ(cli::file_safe("NVIDIA H100 80GB HBM3"), "nvidia-h100-80gb-hbm3");
  EXPECT_EQ(cli::file_safe("  /../ "), "gpu");
}

TEST(Calibration, DefaultPath) {
  const auto p = cli::default_results_path("calibrate", "H100 SXM5 80GB");
  EXPECT_EQ(p.rfind("goodput-results/calibrate-h100-sxm5-80gb-", 0), 0u) << p;
  EXPECT_EQ(p.substr(p.size() - 6), "Z.json");
}

TEST(Calibration, ProgressAndSummary) {
  const SpecDb db = load_default_spec_db();
  const DeviceInfo dev = testing::h100_sxm();
  const PeakContext ctx{&db, dev, device_peaks(db, dev)};
  nlohmann::json results = nlohmann::json::array();
  for (const auto& m : testing::synthetic_calibration())
    results.push_back(measurement_to_json(m, &ctx));
  EXPECT_NE(cli::progress_line(results[2]).find("795.0 TFLOP/s"), std::string::npos)
      << cli::progress_line(results[2]);
  EXPECT_NE(cli::progress_line(results[2]).find("1 THROTTLED"), std::string::npos);
  EXPECT_NE(cli::progress_line(results[5]).find("skipped (needs"), std::string::npos);
  EXPECT_NE(cli::progress_line(results[6]).find("ERROR verification failed"), std::string::npos);
  const auto table = cli::summary_table(build_peak_profile(results, ctx, 1755.0));
  EXPECT_NE(table.find("bf16"), std::string::npos) << table;
  EXPECT_NE(table.find("795.0"), std::string::npos) << table;
  EXPECT_NE(table.find("989.4"), std::string::npos) << table;
  EXPECT_NE(table.find("80.4%"), std::string::npos) << table;   // 795 / 989.4
  EXPECT_NE(table.find("3200.0"), std::string::npos) << table;  // read GB/s
  EXPECT_NE(table.find("results: 5 ok, 1 skipped, 1 failed"), std::string::npos) << table;
}

}  // namespace
}  // namespace goodput
