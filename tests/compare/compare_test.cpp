// Verdicts on the fixture files (tests/compare/make_fixtures.py): a planted regression is found,
// noise of the same spread is "same" (or "inconclusive" where its interval reaches past the
// threshold), too few samples is "inconclusive", setups are flagged,
// unmatched results are listed and bad input is refused with file and field.
#include "harness/compare/compare.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "tests/temp_dir.hpp"

using namespace goodput;
using namespace goodput::compare;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
  return (fs::path(GOODPUT_COMPARE_FIXTURES) / name).string();
}

const SpecDb& db() {
  static const SpecDb d = load_default_spec_db();
  return d;
}

Comparison run(const std::string& base, const std::string& cur, CompareOptions opt = {}) {
  return compare_inputs(load_inputs({fixture(base), fixture(cur)}, ""), opt, &db());
}

const Entry& entry(const Comparison& c, const std::string& name) {
  for (const auto& e : c.entries)
    if (e.current.name == name) return e;
  throw std::runtime_error("no entry " + name);
}

std::string input_error(const std::string& file) {
  try {
    load_results(fixture(file));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

constexpr char kCompareTestDir[] = "goodput_compare_test_";

// A file of `text` in this process's temporary folder.
std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = goodput::testing::process_temp_dir<kCompareTestDir>() / name;
  std::ofstream(path) << text;
  return path.string();
}

constexpr const char* kPlanted = "gemm/bf16/8192x8192x8192";

// Noise of the fixtures' spread is `same`; ten samples of the collectives' 3 % noise cannot always
// hold the interval inside the threshold, and then the verdict is `inconclusive`, never a guess.
void expect_same_or_too_noisy(const Entry& e) {
  if (e.verdict == Verdict::kInconclusive && e.current.kind == "collective") {
    EXPECT_TRUE(e.ci_lo < -e.threshold || e.ci_hi > e.threshold)
        << e.current.name << ": " << e.reason;
    return;
  }
  EXPECT_EQ(e.verdict, Verdict::kSame) << e.current.name << ": " << e.reason;
}

}  // namespace

TEST(Compare, PlantedFivePercentRegressionIsFound) {
  const auto c = run("baseline.json", "current_regression.json");
  EXPECT_EQ(c.entries.size(), 36u);
  const Entry& e = entry(c, kPlanted);
  EXPECT_EQ(e.verdict, Verdict::kSlower) << e.reason;
  EXPECT_NEAR(e.change, 0.05, 0.015);
  EXPECT_LT(e.test.p_value, 0.001);
  EXPECT_TRUE(e.test.exact);
  EXPECT_TRUE(e.ci_bounded);
  EXPECT_LT(e.ci_lo, e.change);
  EXPECT_GT(e.ci_hi, e.change);
  EXPECT_GT(e.ci_lo, 0.03);  // the whole interval is a slowdown
  EXPECT_EQ(c.count(Verdict::kSlower), 1u);
  EXPECT_TRUE(c.regressed());
  // Everything else is noise of the same spread.
  for (const auto& x : c.entries)
    if (x.current.name != kPlanted) expect_same_or_too_noisy(x);
  EXPECT_EQ(c.count(Verdict::kInconclusive), 5u);
  EXPECT_TRUE(c.flags.empty());
}

TEST(Compare, PureNoiseIsSame) {
  const auto c = run("baseline.json", "current_noise.json");
  EXPECT_EQ(c.entries.size(), 36u);
  for (const auto& e : c.entries) expect_same_or_too_noisy(e);
  EXPECT_EQ(c.count(Verdict::kSame), 33u);
  EXPECT_FALSE(c.regressed());
}

TEST(Compare, ThreeSamplesASideIsInconclusiveNotAVerdict) {
  const auto c = run("baseline_few.json", "current_few.json");
  ASSERT_FALSE(c.entries.empty());
  for (const auto& e : c.entries) {
    EXPECT_EQ(e.verdict, Verdict::kInconclusive) << e.current.name;
    EXPECT_NE(e.reason.find("too few samples (3 and 3"), std::string::npos) << e.reason;
    EXPECT_FALSE(e.ci_bounded);
  }
  EXPECT_GT(entry(c, kPlanted).change, 0.03);  // the slowdown is there, but unproven
  EXPECT_FALSE(c.regressed());
}

TEST(Compare, NoiseFloorWidensTheThresholdForNoisyKinds) {
  const auto c = run("baseline.json", "current_noise.json");
  const Entry& coll = entry(c, "collective/all_reduce/1073741824");
  EXPECT_GT(coll.noise_floor, 0.03);  // 3 % sample noise
  EXPECT_DOUBLE_EQ(coll.threshold, coll.noise_floor);
  const Entry& gemm = entry(c, kPlanted);
  EXPECT_DOUBLE_EQ(gemm.threshold, 0.03);  // 1 % noise: the 3 % threshold rules
}

TEST(Compare, ThresholdPerKind) {
  CompareOptions opt;
  parse_threshold("gemm=6%", opt.thresholds);
  const auto c = run("baseline.json", "current_regression.json", opt);
  EXPECT_EQ(entry(c, kPlanted).verdict, Verdict::kSame);  // significant but within 6 %
  EXPECT_NE(entry(c, kPlanted).reason.find("within"), std::string::npos);
  EXPECT_FALSE(c.regressed());
}

namespace {

// Baseline: ten tight samples at 1 ms. `shifts` are the current samples' relative offsets.
Entry judged(const std::vector<double>& shifts, CompareOptions opt = {}) {
  Entry e;
  for (int i = 0; i < 10; ++i) e.baseline.seconds.push_back(1e-3 * (1 + 1e-5 * i));
  for (std::size_t i = 0; i < shifts.size(); ++i)
    e.current.seconds.push_back(1e-3 * (1 + shifts[i] + 1e-6 * static_cast<double>(i)));
  judge(e, opt);
  return e;
}

}  // namespace

TEST(Compare, WideIntervalIsNotSame) {
  // Four of ten current samples 50 % slower: the median has not moved, the interval has.
  const Entry e = judged({0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5});
  EXPECT_NEAR(e.change, 0.0, 1e-3);
  EXPECT_GT(e.ci_hi, 0.4);
  EXPECT_EQ(e.verdict, Verdict::kInconclusive) << e.reason;
  EXPECT_NE(e.reason.find("interval"), std::string::npos) << e.reason;
}

TEST(Compare, SameNeedsTheIntervalWithinTheThreshold) {
  const std::vector<double> spread = {-0.04, -0.03, -0.02, -0.01, 0, 0, 0.01, 0.02, 0.03, 0.04};
  const Entry at95 = judged(spread);
  EXPECT_GE(at95.ci_lo, -0.03);
  EXPECT_LE(at95.ci_hi, 0.03);
  EXPECT_EQ(at95.verdict, Verdict::kSame) << at95.reason;
  // A wider interval of the same samples reaches past 3 %: the confidence level counts.
  CompareOptions strict;
  strict.confidence = 0.9999;
  const Entry at9999 = judged(spread, strict);
  EXPECT_LT(at9999.ci_lo, -0.03);
  EXPECT_EQ(at9999.verdict, Verdict::kInconclusive) << at9999.reason;
}

TEST(Compare, SwappedFilesShowFaster) {
  const auto c = run("current_regression.json", "baseline.json");
  EXPECT_EQ(entry(c, kPlanted).verdict, Verdict::kFaster);
  EXPECT_FALSE(c.regressed());
}

TEST(Compare, DifferentGpuModelAndDriverAreFlagged) {
  const auto c = run("baseline.json", "current_other_gpu.json");
  ASSERT_FALSE(c.entries.empty());
  const auto& f = c.entries.front().flags;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], "different GPU model: NVIDIA H100 80GB HBM3 vs NVIDIA H100 PCIe");
  EXPECT_EQ(f[1], "different driver: 580.65.06 vs 575.57.08");
  EXPECT_EQ(c.flags.size(), 2u);
  DeviceInfo a, b;
  a.name = b.name = "X";
  b.sms = 16;
  b.cublas_version = 1;
  b.nccl_version = 2;
  b.runtime_version = 3;
  const auto all = device_flags(a, b);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], "different SM count: 0 vs 16");
  EXPECT_EQ(all[1], "different CUDA runtime: 0 vs 3");
}

TEST(Compare, UnmatchedResultsAreListed) {
  const auto c = run("baseline.json", "current_unmatched.json");
  ASSERT_EQ(c.only_baseline.size(), 1u);
  EXPECT_EQ(c.only_baseline[0].m.name, "memory/write");
  ASSERT_EQ(c.only_current.size(), 1u);
  EXPECT_EQ(c.only_current[0].m.name, "gemm/bf16/4096x14336x4096");
  ASSERT_EQ(c.not_measured.size(), 1u);
  EXPECT_EQ(c.not_measured[0].m.name, "gemm/fp8/1024x1024x1024");
  EXPECT_NE(c.not_measured[0].why.find("CUBLAS_STATUS_NOT_SUPPORTED"), std::string::npos);
  EXPECT_EQ(c.entries.size(), 34u);
}

TEST(Compare, MissingNowCountsOnlyTheCurrentSide) {
  Measurement ok, failed;
  ok.name = failed.name = "g";
  ok.seconds.assign(10, 1e-3);
  failed.status = "error";
  const auto fixed = compare_results({failed}, {ok}, {}, nullptr);
  ASSERT_EQ(fixed.not_measured.size(), 1u);
  EXPECT_EQ(fixed.missing_now(), 0u);
  EXPECT_EQ(compare_results({ok}, {failed}, {}, nullptr).missing_now(), 1u);
  EXPECT_EQ(compare_results({failed}, {failed}, {}, nullptr).missing_now(), 1u);
  EXPECT_EQ(compare_results({ok}, {}, {}, nullptr).missing_now(), 1u);
  EXPECT_EQ(run("baseline.json", "current_unmatched.json").missing_now(), 2u);
}

TEST(Compare, DatasheetFromSpecDataAndFromThePeaksWritten) {
  const auto c = run("baseline.json", "current_noise.json");
  const Entry& e = entry(c, kPlanted);
  ASSERT_TRUE(e.datasheet);
  EXPECT_NEAR(*e.datasheet / 1e12, 989.4, 0.1);  // H100 SXM bf16, from gpu_specs.json
  ASSERT_TRUE(e.cur_figure);
  EXPECT_EQ(e.cur_figure->metric, "flop_per_s");
  EXPECT_NEAR(e.cur_figure->value / *e.datasheet, 0.77, 0.02);
  const Entry& copy = entry(c, "memory/copy");
  EXPECT_NEAR(*copy.datasheet / 1e12, 3.35, 1e-9);
  EXPECT_FALSE(entry(c, "collective/all_reduce/1024").datasheet);  // no busbw datasheet
  // The layout `goodput calibrate` writes: samples_s, derived, peaks.flops.datasheet.value.
  const auto cal = compare_inputs(
      load_inputs({fixture("calibrate_shape.json"), fixture("calibrate_shape.json")}, ""), {},
      nullptr);
  EXPECT_EQ(cal.entries.size(), 24u);
  EXPECT_EQ(cal.not_measured.size(), 1u);  // the skipped fp64 GEMM
  const Entry& ce = entry(cal, kPlanted);
  EXPECT_EQ(ce.verdict, Verdict::kSame);
  EXPECT_DOUBLE_EQ(ce.test.p_value, 1.0);
  ASSERT_TRUE(ce.datasheet);
  EXPECT_NEAR(*ce.datasheet / 1e12, 989.4, 1e-6);
}

TEST(Compare, OneRankCollectiveShowsItsAlgorithmBandwidth) {
  // What `goodput collectives` writes for one rank: busbw is 0 (nothing crosses a link).
  Measurement m;
  m.kind = "collective";
  m.rates = {{"algbw", 2.079e12}, {"busbw", 0.0}, {"algbw_mean", 2.06e12}};
  const auto f = headline_figure(m);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->metric, "algbw_bytes_per_s");
  EXPECT_DOUBLE_EQ(f->value, 2.079e12);
  m.rates["busbw"] = 4.5e11;  // more than one rank: bus bandwidth first
  EXPECT_EQ(headline_figure(m)->metric, "busbw_bytes_per_s");
}

TEST(Compare, BaselineDirPicksTheSku) {
  const auto dir = fs::temp_directory_path() / ("goodput_cmp_" + std::to_string(getpid()));
  fs::create_directories(dir / "nvidia-h100-80gb-hbm3");
  fs::create_directories(dir / "nvidia-a100-sxm4-80gb");
  fs::copy_file(fixture("baseline.json"), dir / "nvidia-h100-80gb-hbm3" / "bench.json",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(sku_slug("NVIDIA H100 80GB HBM3"), "nvidia-h100-80gb-hbm3");
  EXPECT_EQ(sku_slug("  NVIDIA A100-SXM4-80GB "), "nvidia-a100-sxm4-80gb");
  const auto in = load_inputs({fixture("current_regression.json")}, dir.string());
  ASSERT_EQ(in.baseline.size(), 1u);
  EXPECT_NE(in.baseline[0].path.find("nvidia-h100-80gb-hbm3"), std::string::npos);
  EXPECT_TRUE(compare_inputs(in, {}, &db()).regressed());
  try {
    load_inputs({fixture("current_other_gpu.json")}, dir.string());
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nvidia-h100-pcie"), std::string::npos) << msg;
    EXPECT_NE(msg.find("baselines exist for: nvidia-a100-sxm4-80gb, nvidia-h100-80gb-hbm3"),
              std::string::npos)
        << msg;
  }
  fs::remove_all(dir);
}

TEST(Compare, BaselineDirNeedsADeviceNameWithLettersOrDigits) {
  const auto dir = goodput::testing::process_temp_dir<kCompareTestDir>() / "baselines";
  fs::create_directories(dir);
  fs::copy_file(fixture("baseline.json"), dir / "bench.json", fs::copy_options::overwrite_existing);
  EXPECT_EQ(sku_slug("?? --"), "");
  try {
    baseline_files_for(dir.string(), "?? --");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("device name '?? --' has no letters or digits"),
              std::string::npos)
        << e.what();
  }
}

TEST(CompareInput, BadFilesNameFileFieldAndCause) {
  EXPECT_NE(input_error("bad_schema_version.json").find("schema_version 2.0.0 is not supported"),
            std::string::npos);
  EXPECT_NE(input_error("old_schema_version.json").find("0.9.0 predates"), std::string::npos);
  EXPECT_NE(input_error("empty_results.json").find("'results' is empty"), std::string::npos);
  const auto dup = input_error("duplicate_names.json");
  EXPECT_NE(dup.find("duplicate_names.json: results[1]: duplicate of results[0]"),
            std::string::npos)
      << dup;
  const auto nan = input_error("nan_time.json");
  EXPECT_NE(nan.find("results[1] (gemm/bf16/2048x2048x2048).samples.values[4]: is null"),
            std::string::npos)
      << nan;
  const auto neg = input_error("negative_time.json");
  EXPECT_NE(neg.find("samples.values[2]: negative time -0.001"), std::string::npos) << neg;
  EXPECT_NE(input_error("malformed.json").find("malformed JSON at byte"), std::string::npos);
  EXPECT_NE(input_error("not_results.json").find("field 'schema' is missing"), std::string::npos);
  for (const char* f : {"bad_schema_version.json", "nan_time.json", "malformed.json"})
    EXPECT_NE(input_error(f).find(fixture(f)), std::string::npos) << f;
}

TEST(CompareInput, NumberTooLargeIsAnInputErrorNamingFileAndPosition) {
  const std::string path = temp_file(
      "overflow.json", R"({"schema": "goodput.results", "schema_version": "1.0.0", "results": [)"
                       R"({"name": "g", "samples_s": [0.001, 1e400]}]})");
  try {
    load_results(path);
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find("at byte 109"), std::string::npos) << msg;
    EXPECT_NE(msg.find("number overflow parsing '1e400'"), std::string::npos) << msg;
  }
}

TEST(CompareInput, DeviceIndexBeyondAnIntIsRefused) {
  nlohmann::json doc = read_json_file(fixture("baseline.json"));
  for (const char* bad : {"4294967296", "18446744073709551615", "-1", "1.5"}) {
    doc["results"][1]["device"] = nlohmann::json::parse(bad);
    try {
      parse_results(doc, "x.json");
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("x.json: results[1] (gemm/bf16/2048x2048x2048): field "
                                           "'device' is " +
                                           std::string(bad) + ", not a device index"),
                std::string::npos)
          << e.what();
    }
  }
  doc["results"][1]["device"] = 0;  // written by a program: a signed integer
  EXPECT_EQ(parse_results(doc, "x.json").results[1].device_ordinal, 0);
}

TEST(CompareInput, DuplicatesAcrossMergedFiles) {
  try {
    compare_inputs(load_inputs({fixture("baseline.json"), fixture("current_noise.json"),
                                fixture("current_regression.json")},
                               ""),
                   {}, nullptr);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicates"), std::string::npos) << e.what();
  }
}

TEST(CompareInput, ThresholdSyntax) {
  Thresholds t;
  parse_threshold("2.5%", t);
  EXPECT_DOUBLE_EQ(t.fallback, 0.025);
  parse_threshold("0.04", t);
  EXPECT_DOUBLE_EQ(t.fallback, 0.04);
  parse_threshold("collective=8%", t);
  EXPECT_DOUBLE_EQ(t.for_kind("collective"), 0.08);
  EXPECT_DOUBLE_EQ(t.for_kind("gemm"), 0.04);
  for (const char* bad : {"abc", "3%%", "-1%", "=3%", "gemm=", ""})
    EXPECT_THROW(parse_threshold(bad, t), InputError) << bad;
  parse_threshold("150%", t);  // a percentage says what it means
  EXPECT_DOUBLE_EQ(t.fallback, 1.5);
}

TEST(CompareInput, PlainThresholdOfOneOrMoreIsRefused) {
  Thresholds t;
  for (const char* bad : {"5", "1", "gemm=5", "collective=1.0"}) {
    try {
      parse_threshold(bad, t);
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("%' for a percentage"), std::string::npos) << e.what();
    }
  }
  try {
    parse_threshold("5", t);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'5%'"), std::string::npos) << e.what();
  }
  EXPECT_DOUBLE_EQ(t.fallback, 0.03);
  EXPECT_TRUE(t.by_kind.empty());
  parse_threshold("0.99", t);
  EXPECT_DOUBLE_EQ(t.fallback, 0.99);
}

TEST(CompareInput, ThresholdForAnUnknownKindIsRefused) {
  CompareOptions opt;
  parse_threshold("gemmm=25%", opt.thresholds);
  try {
    run("baseline.json", "current_noise.json", opt);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--threshold gemmm=...: no result has kind 'gemmm'; "
                                         "known kinds: collective, gemm, host_benchmark, memory"),
              std::string::npos)
        << e.what();
  }
  // Kinds the files name count too, and a kind goodput writes needs no result of it.
  Measurement m;
  m.name = "m";
  m.kind = "custom";
  m.seconds.assign(10, 1e-3);
  CompareOptions known;
  parse_threshold("custom=5%", known.thresholds);
  parse_threshold("host_benchmark=5%", known.thresholds);
  EXPECT_EQ(compare_results({m}, {m}, known, nullptr).entries.front().threshold, 0.05);
}
