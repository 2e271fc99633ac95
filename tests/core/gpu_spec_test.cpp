#include "harness/core/gpu_spec.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "harness/core/error.hpp"
#include "tests/temp_dir.hpp"

using namespace goodput;

namespace {

constexpr char kSpecTestDir[] = "goodput_spec_test_";

const SpecDb& db() {
  static const SpecDb d = load_default_spec_db();
  return d;
}

DeviceInfo device(const std::string& name, int sms, int major, int minor, double max_mhz = 0,
                  double cur_mhz = 0) {
  DeviceInfo d;
  d.name = name;
  d.sms = sms;
  d.cc_major = major;
  d.cc_minor = minor;
  d.sm_clock_mhz_max = max_mhz;
  d.sm_clock_mhz_current = cur_mhz;
  return d;
}

const PeakEntry& entry(const DevicePeaks& p, const std::string& dt) {
  for (const auto& e : p.flops)
    if (e.dtype == dt) return e;
  throw std::runtime_error("no entry " + dt);
}

}  // namespace

TEST(GpuSpec, CoversTheRequiredSkus) {
  for (const char* n :
       {"NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB", "NVIDIA A100-PCIE-40GB",
        "NVIDIA A100 80GB PCIe", "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL",
        "NVIDIA H200", "NVIDIA GH200 480GB", "NVIDIA B200", "NVIDIA L40S", "NVIDIA L4",
        "Tesla V100-SXM2-32GB", "NVIDIA A100-PG509-200"}) {
    bool found = false;
    for (const auto& g : db().gpus)
      for (const auto& alias : g.names) found |= alias == n;
    EXPECT_TRUE(found) << n;
  }
}

TEST(GpuSpec, H100SxmBf16FromClock) {
  // 132 SMs x 4096 FLOP/clk/SM x 1.83 GHz = 989.4 TF/s.
  const auto p = device_peaks(db(), device("NVIDIA H100 80GB HBM3", 132, 9, 0, 1980, 1755));
  EXPECT_EQ(p.match, SpecMatch::kExact);
  const auto& bf16 = entry(p, "bf16");
  EXPECT_NEAR(*bf16.at_datasheet_clock / 1e12, 989.4, 0.1);
  EXPECT_NEAR(*bf16.datasheet / 1e12, 989.4, 0.1);
  EXPECT_NEAR(*bf16.at_max_clock / 1e12, 132 * 4096 * 1.98e9 / 1e12, 1e-6);
  EXPECT_NEAR(*bf16.at_current_clock / 1e12, 132 * 4096 * 1.755e9 / 1e12, 1e-6);
  EXPECT_NEAR(*entry(p, "fp8").at_datasheet_clock / 1e12, 1978.9, 0.1);
  EXPECT_NEAR(*entry(p, "tf32").at_datasheet_clock / 1e12, 494.7, 0.1);
  // fp32/fp64 are quoted at the boost clock.
  EXPECT_NEAR(*entry(p, "fp32").at_datasheet_clock / 1e12, 66.9, 0.1);
  EXPECT_NEAR(*entry(p, "fp64").at_datasheet_clock / 1e12, 33.5, 0.1);
  EXPECT_NEAR(*entry(p, "fp64_tensor").at_datasheet_clock / 1e12, 66.9, 0.1);
  EXPECT_NEAR(*p.hbm_bandwidth / 1e12, 3.35, 1e-9);
  EXPECT_FALSE(entry(p, "bf16").datasheet == std::nullopt);
}

TEST(GpuSpec, DatasheetAgreesWithClockArithmeticForEverySku) {
  // Every datasheet figure must follow from SMs x clock x FLOP/clk/SM within 3 %.
  for (const auto& g : db().gpus) {
    DeviceInfo d = device(g.names.front(), g.sms, 0, 0);
    const auto p = device_peaks(db(), d);
    ASSERT_EQ(p.match, SpecMatch::kExact) << g.name;
    for (const auto& e : p.flops) {
      if (!e.datasheet || !e.at_datasheet_clock) continue;
      EXPECT_NEAR(*e.at_datasheet_clock / *e.datasheet, 1.0, 0.03) << g.name << " " << e.dtype;
    }
  }
}

TEST(GpuSpec, OtherSkus) {
  auto a100 = device_peaks(db(), device("NVIDIA A100-SXM4-80GB", 108, 8, 0));
  EXPECT_NEAR(*entry(a100, "bf16").at_datasheet_clock / 1e12, 311.9, 0.2);
  EXPECT_NEAR(*a100.hbm_bandwidth / 1e9, 2039, 1e-9);
  EXPECT_THROW(entry(a100, "fp8"), std::runtime_error);  // no fp8 on Ampere
  auto h200 = device_peaks(db(), device("NVIDIA H200", 132, 9, 0));
  EXPECT_NEAR(*h200.hbm_bandwidth / 1e12, 4.8, 1e-9);
  auto pcie = device_peaks(db(), device("NVIDIA H100 PCIe", 114, 9, 0));
  EXPECT_NEAR(*entry(pcie, "bf16").datasheet / 1e12, 756, 1e-9);
  auto b200 = device_peaks(db(), device("NVIDIA B200", 148, 10, 0));
  EXPECT_NEAR(*entry(b200, "bf16").datasheet / 1e12, 2250, 1e-9);
  EXPECT_NEAR(*entry(b200, "fp4").datasheet / 1e12, 9000, 1e-9);
  auto l40s = device_peaks(db(), device("NVIDIA L40S", 142, 8, 9));
  EXPECT_NEAR(*entry(l40s, "bf16").datasheet / 1e12, 362.05, 1e-9);
}

TEST(GpuSpec, NameMatchIgnoresCaseAndPunctuation) {
  SpecMatch how{};
  EXPECT_NE(find_spec(db(), "nvidia h100 80gb hbm3", 132, &how), nullptr);
  EXPECT_EQ(how, SpecMatch::kExact);
}

TEST(GpuSpec, SmCountMismatchIsFlaggedAndDerived) {
  // Same name, other SM count (a MIG slice): datasheet numbers must not be used.
  const auto p = device_peaks(db(), device("NVIDIA H100 80GB HBM3", 16, 9, 0, 1980));
  EXPECT_EQ(p.match, SpecMatch::kNameOnly);
  EXPECT_FALSE(p.note.empty());
  EXPECT_EQ(entry(p, "bf16").datasheet, std::nullopt);
  EXPECT_NEAR(*entry(p, "bf16").at_max_clock, 16 * 4096 * 1.98e9, 1);
}

TEST(GpuSpec, UnknownCardFallsBackToArchitecture) {
  const auto p = device_peaks(db(), device("NVIDIA Future X", 100, 9, 0, 2000, 1500));
  EXPECT_EQ(p.match, SpecMatch::kDerived);
  EXPECT_NE(p.note.find("unknown GPU"), std::string::npos);
  EXPECT_NEAR(*entry(p, "fp8").at_max_clock, 100 * 8192 * 2.0e9, 1);
  EXPECT_EQ(p.hbm_bandwidth, std::nullopt);
  const auto unknown_arch = device_peaks(db(), device("Mystery", 10, 42, 0, 1000));
  EXPECT_TRUE(unknown_arch.flops.empty());
  EXPECT_NE(unknown_arch.note.find("sm_420"), std::string::npos);
}

// `--gpu` takes a spec's name or alias in any case and spacing, or a unique part of its name.
TEST(GpuSpec, SpecsNamedAsAPersonTypesThem) {
  auto names = [](const std::string& q) {
    std::vector<std::string> out;
    for (const auto* g : specs_named(db(), q)) out.push_back(g->name);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("H200 SXM 141GB"), V{"H200 SXM 141GB"});
  EXPECT_EQ(names("h200-sxm-141gb"), V{"H200 SXM 141GB"});
  EXPECT_EQ(names("NVIDIA H100 80GB HBM3"), V{"H100 SXM5 80GB"});  // the device's own name
  EXPECT_EQ(names("nvidia a100-sxm4-80gb"), V{"A100 SXM4 80GB"});
  EXPECT_EQ(names("h200 sxm"), V{"H200 SXM 141GB"});
  EXPECT_EQ(names("b200"), V{"B200 180GB"});
  EXPECT_EQ(names("h100").size(), 3u);    // SXM5, PCIe, NVL: ambiguous
  EXPECT_TRUE(names("a100 80").empty());  // a part of an alias only would pick one form
  EXPECT_TRUE(names("nope").empty());
  EXPECT_TRUE(names("--").empty());
}

TEST(GpuSpec, BadSpecDataNamesTheField) {
  const nlohmann::json bad = {
      {"architectures",
       {{"sm_90", {{"family", "Hopper"}, {"flop_per_clk_per_sm", {{"bf16", 4096}}}}}}},
      {"gpus", {{{"name", "X"}, {"device_names", {"X"}}, {"arch", "sm_90"}}}}};
  try {
    parse_spec_db(bad, "specs.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gpus[0]: missing field 'sms'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_spec_db("/nonexistent/specs.json"), InputError);
  // A field of the wrong type, required or optional, names the field and the type wanted.
  auto error_of = [](const nlohmann::json& j) {
    try {
      parse_spec_db(j, "specs.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  nlohmann::json good = bad;
  good["gpus"][0].update({{"sms", 132},
                          {"boost_clock_mhz", 1980},
                          {"memory_gb", 80},
                          {"memory_bandwidth_gbps", 3350},
                          {"datasheet_tflops", {{"bf16", 989.4}}}});
  EXPECT_EQ(error_of(good), "");
  auto with = [&](const char* key, nlohmann::json v) {
    nlohmann::json j = good;
    j["gpus"][0][key] = std::move(v);
    return error_of(j);
  };
  EXPECT_NE(
      with("sms", "132").find("gpus[0]: field 'sms' has the wrong type (expected an integer)"),
      std::string::npos);
  EXPECT_NE(with("tensor_clock_mhz", "fast").find("field 'tensor_clock_mhz' has the wrong type"),
            std::string::npos);
  EXPECT_NE(with("datasheet_tflops", {{"bf16", "lots"}})
                .find("field 'datasheet_tflops.bf16' has the wrong type (expected a number)"),
            std::string::npos);
  EXPECT_NE(with("device_names", {1, 2}).find("field 'device_names' has the wrong type"),
            std::string::npos);
  nlohmann::json not_object = good;
  not_object["gpus"][0] = 7;
  EXPECT_NE(error_of(not_object).find("gpus[0] must be an object"), std::string::npos);
  // Malformed JSON names the byte where it goes wrong.
  const std::string path =
      (goodput::testing::process_temp_dir<kSpecTestDir>() / "goodput_bad_specs.json").string();
  std::ofstream(path) << "{\"architectures\": {}, \"gpus\": [,]}";
  try {
    load_spec_db(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("goodput_bad_specs.json: malformed JSON at byte 32"),
              std::string::npos)
        << e.what();
  }
  // A table of the wrong shape is an input error naming it, not a JSON library exception.
  for (const char* key : {"architectures", "gpus"}) {
    nlohmann::json shape = bad;
    shape[key] = "none";
    try {
      parse_spec_db(shape, "specs.json");
      FAIL() << key;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("specs.json: ") + key + " must be"),
                std::string::npos)
          << e.what();
    }
  }
}
