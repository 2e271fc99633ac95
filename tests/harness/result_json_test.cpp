#include <gtest/gtest.h>

#include "harness/core/timing.hpp"
#include "tests/harness/synthetic.hpp"

namespace goodput {
namespace {

struct Fixture : ::testing::Test {
  SpecDb db = load_default_spec_db();
  DeviceInfo dev = testing::h100_sxm();
  PeakContext ctx{&db, dev, device_peaks(db, dev)};
};

TEST_F(Fixture, PeakDtypeMapping) {
  EXPECT_EQ(peak_dtype_for("bf16", ctx.peaks), "bf16");
  EXPECT_EQ(peak_dtype_for("fp8_e4m3", ctx.peaks), "fp8");
  EXPECT_EQ(peak_dtype_for("FP8", ctx.peaks), "fp8");
  EXPECT_EQ(peak_dtype_for("fp64", ctx.peaks), "fp64_tensor");  // DMMA on Hopper
  EXPECT_EQ(peak_dtype_for("tf32", ctx.peaks), "tf32");
  EXPECT_FALSE(peak_dtype_for("int3", ctx.peaks).has_value());
}

TEST_F(Fixture, GemmResultHasRatesAndPeaks) {
  const double f = 2.0 * 8192.0 * 8192.0 * 8192.0;
  const auto m =
      testing::synthetic("gemm/bf16/8192", "gemm", {{"dtype", "bf16"}}, f, 0, f / 795e12, 1755);
  const auto j = measurement_to_json(m, &ctx);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["samples_s"].size(), 10u);
  EXPECT_EQ(j["stats"]["n"], 10);
  EXPECT_EQ(j["stop_reason"], "spread_reached");
  EXPECT_EQ(j["warmup"]["end"], "settled");
  EXPECT_EQ(j["warmup"]["iterations"], 4);
  EXPECT_EQ(j["throttled_samples"], 1);
  EXPECT_EQ(j["telemetry"]["per_sample"].size(), 10u);
  const double rate = j["derived"]["flops_per_s"];
  EXPECT_NEAR(rate, 795e12, 795e12 * 1e-9);  // median sample is exactly f / 795e12
  EXPECT_GT(j["derived"]["flops_per_s_best"].get<double>(), rate);  // best = fastest sample
  EXPECT_FALSE(j["derived"].contains("bytes_per_s"));
  const auto& pk = j["peaks"]["flops"];
  EXPECT_EQ(pk["dtype"], "bf16");
  EXPECT_NEAR(pk["datasheet"]["value"].get<double>(), 989.4e12, 1e9);
  EXPECT_NEAR(pk["datasheet"]["ratio"].get<double>(), 795.0 / 989.4, 1e-6);
  // Clock-derived: 132 SMs x 4096 FLOP/clk x clock.
  EXPECT_NEAR(pk["at_max_clock"]["value"].get<double>(), 132 * 4096 * 1980e6, 1e6);
  EXPECT_NEAR(pk["at_observed_clock"]["value"].get<double>(), 132 * 4096 * 1755e6, 1e6);
  EXPECT_EQ(pk["at_observed_clock"]["clock_mhz"], 1755);
  EXPECT_NEAR(pk["at_observed_clock"]["ratio"].get<double>(), 795e12 / (132 * 4096 * 1755e6), 1e-9);
  EXPECT_EQ(j["peaks"]["observed_sm_clock_mhz"], 1755);
}

TEST_F(Fixture, MemoryResultComparesWithHbmDatasheet) {
  const double b = 8.0 * (1u << 30);
  const auto m =
      testing::synthetic("memory/copy", "memory", {{"op", "copy"}}, 0, b, b / 2.9e12, 1980);
  const auto j = measurement_to_json(m, &ctx);
  EXPECT_NEAR(j["derived"]["bytes_per_s"].get<double>(), 2.9e12, 1e3);
  EXPECT_NEAR(j["peaks"]["bandwidth"]["datasheet"]["value"].get<double>(), 3.35e12, 1);
  EXPECT_NEAR(j["peaks"]["bandwidth"]["datasheet"]["ratio"].get<double>(), 2.9 / 3.35, 1e-6);
  EXPECT_FALSE(j["peaks"].contains("flops"));
}

TEST_F(Fixture, SkippedAndFailedResultsCarryTheirReason) {
  const auto v = testing::synthetic_calibration();
  const auto skipped = measurement_to_json(v[v.size() - 2], &ctx);
  EXPECT_EQ(skipped["status"], "skipped");
  EXPECT_EQ(skipped["reason"], "needs 96.00 GiB, 79.10 GiB free");
  EXPECT_FALSE(skipped.contains("stats"));
  const auto failed = measurement_to_json(v.back(), &ctx);
  EXPECT_EQ(failed["status"], "error");
  EXPECT_NE(failed["error"].get<std::string>().find("verification failed"), std::string::npos);
}

TEST_F(Fixture, WithoutPeakContextNoPeaks) {
  const auto m = testing::synthetic("gemm/bf16", "gemm", {{"dtype", "bf16"}}, 1e12, 0, 1e-3, 1755);
  EXPECT_FALSE(measurement_to_json(m, nullptr).contains("peaks"));
}

TEST_F(Fixture, PeakProfilePicksBestPerDtypeAndOp) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& m : testing::synthetic_calibration())
    results.push_back(measurement_to_json(m, &ctx));
  const auto p = build_peak_profile(results, ctx, 1755.0);
  const auto& bf16 = p["gemm"]["bf16"];
  EXPECT_EQ(bf16["best"]["result"], "gemm/bf16/8192x8192x8192");  // 795 beats 700 TF/s
  EXPECT_NEAR(bf16["best"]["flops_per_s"].get<double>(), 795e12, 1e6);
  EXPECT_NEAR(bf16["peaks"]["datasheet"]["ratio"].get<double>(), 795 / 989.4, 1e-6);
  EXPECT_EQ(p["gemm"]["fp8_e4m3"]["peaks"]["dtype"], "fp8");
  EXPECT_NEAR(p["gemm"]["fp8_e4m3"]["peaks"]["at_observed_clock"]["value"].get<double>(),
              132 * 8192 * 1700e6, 1e6);
  EXPECT_FALSE(p["gemm"].contains("fp64"));  // skipped
  EXPECT_FALSE(p["gemm"].contains("tf32"));  // failed
  EXPECT_NEAR(p["memory"]["ops"]["read"]["best"]["bytes_per_s"].get<double>(), 3.2e12, 1e3);
  EXPECT_EQ(p["memory"]["best"]["op"], "read");
  EXPECT_NEAR(p["memory"]["best"]["datasheet"]["ratio"].get<double>(), 3.2 / 3.35, 1e-6);
  EXPECT_EQ(p["results"]["ok"], 5);
  EXPECT_EQ(p["results"]["skipped"], 1);
  EXPECT_EQ(p["results"]["error"], 1);
  EXPECT_EQ(p["provenance"]["spec_match"], "exact");
  EXPECT_EQ(p["provenance"]["spec_name"], "H100 SXM5 80GB");
  EXPECT_EQ(p["observed_sm_clock_mhz"], 1755);
}

TEST_F(Fixture, PeakProfileAlgorithmFromDetails) {
  auto v = testing::synthetic_calibration();
  nlohmann::json results = nlohmann::json::array();
  results.push_back(measurement_to_json(v[3], &ctx));  // the 4096 bf16 one, with an algorithm
  const auto p = build_peak_profile(results, ctx, std::nullopt);
  EXPECT_EQ(p["gemm"]["bf16"]["best"]["algorithm"]["tile"], "128x256");
  EXPECT_TRUE(p["observed_sm_clock_mhz"].is_null());
}

TEST_F(Fixture, UnknownGpuIsFlaggedDerived) {
  DeviceInfo d = dev;
  d.name = "NVIDIA Future GPU";
  const PeakContext c{&db, d, device_peaks(db, d)};
  const auto m = testing::synthetic("gemm/bf16", "gemm", {{"dtype", "bf16"}}, 1e12, 0, 2e-3, 1755);
  const auto j = measurement_to_json(m, &c);
  EXPECT_EQ(j["peaks"]["flops"]["spec_match"], "derived");
  EXPECT_TRUE(j["peaks"]["flops"]["datasheet"].is_null());
  EXPECT_FALSE(j["peaks"]["flops"]["at_max_clock"].is_null());
}

}  // namespace
}  // namespace goodput
