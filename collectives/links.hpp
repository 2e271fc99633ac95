// Theoretical link bandwidth of a GPU (results/interconnects.json): NVLink generation x links,
// PCIe generation x width, per direction. busbw is held against this; numbers above it are
// explained (in-switch reduction, NVLS/SHARP), not hidden.
#pragma once
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "collectives/collective.hpp"

namespace goodput::collectives {

struct LinkDb {
  std::map<int, double> nvlink_per_link;   // generation -> bytes/s per link per direction
  std::map<int, int> nvml_nvlink_version;  // NVML nvmlNvlinkVersion_t -> generation
  std::map<int, double> pcie_per_lane;     // generation -> bytes/s per lane per direction
};

LinkDb parse_link_db(const nlohmann::json& j, const std::string& origin);  // InputError names field
LinkDb load_default_link_db();  // interconnects.json under data_dir()

// What the GPU side could find out about one GPU's links (0 = unknown / none).
struct LinkInfo {
  int nvlink_version_nvml = 0;  // as NVML reports it (see nvml_nvlink_version)
  int nvlink_links = 0;         // active links
  int pcie_generation = 0;      // current link generation
  int pcie_width = 0;           // current lanes
  std::string source;           // "nvml", or why nothing is known
};
nlohmann::json to_json(const LinkInfo& l);
LinkInfo link_info_from_json(const nlohmann::json& j);

struct LinkPeak {
  std::string kind;  // "nvlink", "pcie", "" when unknown
  int generation = 0;
  int lanes_or_links = 0;
  double bytes_per_s = 0;  // per direction
  std::string note;
};

std::optional<double> nvlink_peak(const LinkDb& db, int generation, int links);
std::optional<double> pcie_peak(const LinkDb& db, int generation, int width);
// The link a single-node collective crosses: NVLink when active links exist, else PCIe.
LinkPeak link_peak(const LinkDb& db, const LinkInfo& info);

// What is known of NCCL's algorithm for one case.
struct NcclAlgorithm {
  std::string reported;   // what NCCL reported it ran (nccl_choice.hpp), "" when unknown
  std::string env_algo;   // NCCL_ALGO as set, "" when not set
  std::string env_proto;  // NCCL_PROTO as set, "" when not set
};

// Measured busbw beside the link peak: value, ratio, percent, and a note when busbw is above
// the peak (NVLS reduces or multicasts in the NVSwitch, CollNet/SHARP in the network, so each GPU
// moves fewer bytes than the ring formula assumes; the reported algorithm says which) or when the
// run crossed nodes (network not known).
nlohmann::json peak_comparison(const LinkPeak& peak, Coll c, double busbw, bool multi_node,
                               const NcclAlgorithm& nccl);

}  // namespace goodput::collectives
