#include "collectives/links.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::collectives {
namespace {

LinkDb repo_db() {
  const std::string path = std::string(GOODPUT_RESULTS_DIR) + "/interconnects.json";
  return parse_link_db(read_json_file(path), path);
}

TEST(LinkDb, NvlinkPeaksPerGeneration) {
  const LinkDb db = repo_db();
  EXPECT_DOUBLE_EQ(*nvlink_peak(db, 4, 18), 450e9);  // H100 SXM
  EXPECT_DOUBLE_EQ(*nvlink_peak(db, 3, 12), 300e9);  // A100 SXM
  EXPECT_DOUBLE_EQ(*nvlink_peak(db, 5, 18), 900e9);  // B200
  EXPECT_FALSE(nvlink_peak(db, 9, 18));
  EXPECT_FALSE(nvlink_peak(db, 4, 0));
}

TEST(LinkDb, PciePeaksPerGenerationAndWidth) {
  const LinkDb db = repo_db();
  EXPECT_NEAR(*pcie_peak(db, 4, 16), 31.5e9, 0.1e9);
  EXPECT_NEAR(*pcie_peak(db, 5, 16), 63.0e9, 0.1e9);
  EXPECT_NEAR(*pcie_peak(db, 3, 8), 7.88e9, 0.01e9);
  EXPECT_FALSE(pcie_peak(db, 0, 16));
}

TEST(LinkPeak, PrefersActiveNvlinkThenPcie) {
  const LinkDb db = repo_db();
  LinkInfo h100;
  h100.nvlink_version_nvml = 6;  // NVML_NVLINK_VERSION_4_0
  h100.nvlink_links = 18;
  h100.pcie_generation = 5;
  h100.pcie_width = 16;
  LinkPeak p = link_peak(db, h100);
  EXPECT_EQ(p.kind, "nvlink");
  EXPECT_EQ(p.generation, 4);
  EXPECT_DOUBLE_EQ(p.bytes_per_s, 450e9);

  LinkInfo pcie_card = h100;
  pcie_card.nvlink_links = 0;
  p = link_peak(db, pcie_card);
  EXPECT_EQ(p.kind, "pcie");
  EXPECT_EQ(p.lanes_or_links, 16);

  LinkInfo unknown;
  unknown.source = "NVML not available";
  p = link_peak(db, unknown);
  EXPECT_EQ(p.kind, "");
  EXPECT_EQ(p.bytes_per_s, 0);
  EXPECT_NE(p.note.find("NVML not available"), std::string::npos);
}

TEST(PeakComparison, RatioAndTheNvlsExplanation) {
  LinkPeak p;
  p.kind = "nvlink";
  p.generation = 4;
  p.lanes_or_links = 18;
  p.bytes_per_s = 450e9;
  auto j = peak_comparison(p, Coll::kAllReduce, 360e9, false, {});
  EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(j["percent"].get<double>(), 80.0);
  EXPECT_EQ(j["note"], "");
  EXPECT_TRUE(j["nccl_algorithm"].is_null());
  j = peak_comparison(p, Coll::kAllReduce, 480e9, false, {"", "NVLS", "Simple"});
  EXPECT_GT(j["ratio"].get<double>(), 1.0);
  EXPECT_NE(j["note"].get<std::string>().find("NVLS"), std::string::npos);
  EXPECT_NE(j["note"].get<std::string>().find("NCCL_ALGO=NVLS was requested"), std::string::npos);
  EXPECT_EQ(j["nccl_algo"], "NVLS");
  EXPECT_EQ(j["nccl_proto"], "Simple");
  j = peak_comparison(p, Coll::kAllGather, 100e9, true, {});
  EXPECT_NE(j["note"].get<std::string>().find("span nodes"), std::string::npos);
  j = peak_comparison(LinkPeak{}, Coll::kAllGather, 100e9, false, {});
  EXPECT_TRUE(j["ratio"].is_null());
}

TEST(PeakComparison, TheReportedAlgorithmExplainsBusbwAboveThePeak) {
  LinkPeak p;
  p.kind = "nvlink";
  p.bytes_per_s = 450e9;
  auto j = peak_comparison(p, Coll::kAllReduce, 480e9, false, {"NVLS", "", ""});
  const std::string nvls = j["note"];
  EXPECT_NE(nvls.find("NCCL ran NVLS (NVLink SHARP), so the NVSwitch reduces"), std::string::npos)
      << nvls;
  EXPECT_EQ(j["nccl_algorithm"], "NVLS");
  EXPECT_TRUE(j["nccl_algo"].is_null()) << "nothing was requested";
  j = peak_comparison(p, Coll::kAllGather, 480e9, false, {"NVLSTree", "", ""});
  EXPECT_NE(j["note"].get<std::string>().find("multicasts"), std::string::npos);
  j = peak_comparison(p, Coll::kReduceScatter, 480e9, true, {"CollNetDirect", "", ""});
  const std::string collnet = j["note"];
  EXPECT_NE(collnet.find("NCCL ran CollNetDirect, so the network (SHARP) reduces"),
            std::string::npos)
      << collnet;
  EXPECT_NE(collnet.find("span nodes"), std::string::npos);
  // A ring moves every byte over the links: above the peak, the peak itself is suspect.
  j = peak_comparison(p, Coll::kAllReduce, 480e9, false, {"Ring", "", ""});
  const std::string ring = j["note"];
  EXPECT_NE(ring.find("although NCCL ran Ring"), std::string::npos) << ring;
  EXPECT_EQ(ring.find("in-network reduction"), std::string::npos) << ring;
  // Below the peak the algorithm is recorded, with nothing to explain.
  j = peak_comparison(p, Coll::kAllReduce, 400e9, false, {"NVLS", "", ""});
  EXPECT_EQ(j["note"], "");
  EXPECT_EQ(j["nccl_algorithm"], "NVLS");
}

TEST(LinkDb, MalformedDataNamesTheField) {
  const auto j = nlohmann::json::parse(R"({"nvlink": [{"generation": 4}], "pcie": [],
      "nvml_nvlink_version_to_generation": {}})");
  try {
    parse_link_db(j, "x.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.json: nvlink[0]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gbps_per_link_per_direction"), std::string::npos);
  }
  EXPECT_THROW(parse_link_db(nlohmann::json::object(), "y.json"), InputError);
}

TEST(LinkInfo, JsonRoundTrip) {
  LinkInfo l{6, 18, 5, 16, "nvml"};
  const LinkInfo r = link_info_from_json(to_json(l));
  EXPECT_EQ(r.nvlink_links, 18);
  EXPECT_EQ(r.pcie_width, 16);
  EXPECT_EQ(r.source, "nvml");
}

}  // namespace
}  // namespace goodput::collectives
