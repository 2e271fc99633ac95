#include "collectives/links.hpp"

#include "harness/core/data_dir.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::collectives {
namespace {

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw InputError(where + ": missing field '" + key + "'");
  return j.at(key);
}

double positive_number(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_number() || v.get<double>() <= 0)
    throw InputError(where + "." + key + ": must be a positive number");
  return v.get<double>();
}

int positive_int(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_number_integer() || v.get<int>() <= 0)
    throw InputError(where + "." + key + ": must be a positive integer");
  return v.get<int>();
}

}  // namespace

LinkDb parse_link_db(const nlohmann::json& j, const std::string& origin) {
  LinkDb db;
  const auto& nv = field(j, "nvlink", origin);
  if (!nv.is_array()) throw InputError(origin + ": 'nvlink' must be an array");
  for (std::size_t i = 0; i < nv.size(); ++i) {
    const std::string where = origin + ": nvlink[" + std::to_string(i) + "]";
    db.nvlink_per_link[positive_int(nv[i], "generation", where)] =
        positive_number(nv[i], "gbps_per_link_per_direction", where) * 1e9;
  }
  const auto& ver = field(j, "nvml_nvlink_version_to_generation", origin);
  if (!ver.is_object())
    throw InputError(origin + ": 'nvml_nvlink_version_to_generation' must be an object");
  for (auto it = ver.begin(); it != ver.end(); ++it) {
    const std::string where = origin + ": nvml_nvlink_version_to_generation." + it.key();
    int key = 0;
    try {
      key = std::stoi(it.key());
    } catch (const std::exception&) {
      throw InputError(where + ": key must be an integer");
    }
    if (!it.value().is_number_integer()) throw InputError(where + ": must be an integer");
    db.nvml_nvlink_version[key] = it.value().get<int>();
  }
  const auto& pc = field(j, "pcie", origin);
  if (!pc.is_array()) throw InputError(origin + ": 'pcie' must be an array");
  for (std::size_t i = 0; i < pc.size(); ++i) {
    const std::string where = origin + ": pcie[" + std::to_string(i) + "]";
    db.pcie_per_lane[positive_int(pc[i], "generation", where)] =
        positive_number(pc[i], "gbps_per_lane_per_direction", where) * 1e9;
  }
  return db;
}

LinkDb load_default_link_db() {
  const std::string path = data_path("interconnects.json");
  return parse_link_db(read_json_file(path), path);
}

nlohmann::json to_json(const LinkInfo& l) {
  return {{"nvlink_version_nvml", l.nvlink_version_nvml},
          {"nvlink_links", l.nvlink_links},
          {"pcie_generation", l.pcie_generation},
          {"pcie_width", l.pcie_width},
          {"source", l.source}};
}

LinkInfo link_info_from_json(const nlohmann::json& j) {
  LinkInfo l;
  l.nvlink_version_nvml = j.value("nvlink_version_nvml", 0);
  l.nvlink_links = j.value("nvlink_links", 0);
  l.pcie_generation = j.value("pcie_generation", 0);
  l.pcie_width = j.value("pcie_width", 0);
  l.source = j.value("source", "");
  return l;
}

std::optional<double> nvlink_peak(const LinkDb& db, int generation, int links) {
  const auto it = db.nvlink_per_link.find(generation);
  if (it == db.nvlink_per_link.end() || links <= 0) return std::nullopt;
  return it->second * links;
}

std::optional<double> pcie_peak(const LinkDb& db, int generation, int width) {
  const auto it = db.pcie_per_lane.find(generation);
  if (it == db.pcie_per_lane.end() || width <= 0) return std::nullopt;
  return it->second * width;
}

LinkPeak link_peak(const LinkDb& db, const LinkInfo& info) {
  LinkPeak p;
  if (info.nvlink_links > 0) {
    const auto g = db.nvml_nvlink_version.find(info.nvlink_version_nvml);
    if (g != db.nvml_nvlink_version.end()) {
      if (const auto v = nvlink_peak(db, g->second, info.nvlink_links)) {
        p.kind = "nvlink";
        p.generation = g->second;
        p.lanes_or_links = info.nvlink_links;
        p.bytes_per_s = *v;
        return p;
      }
    }
    p.note = "NVLink version " + std::to_string(info.nvlink_version_nvml) +
             " is not in interconnects.json; ";
  }
  if (const auto v = pcie_peak(db, info.pcie_generation, info.pcie_width)) {
    p.kind = "pcie";
    p.generation = info.pcie_generation;
    p.lanes_or_links = info.pcie_width;
    p.bytes_per_s = *v;
    return p;
  }
  p.note += "link generation and width unknown" +
            (info.source.empty() ? std::string() : " (" + info.source + ")");
  return p;
}

nlohmann::json peak_comparison(const LinkPeak& peak, Coll c, double busbw, bool multi_node,
                               const NcclAlgorithm& nccl) {
  nlohmann::json j = {
      {"kind", peak.kind.empty() ? nlohmann::json(nullptr) : nlohmann::json(peak.kind)},
      {"generation", peak.generation},
      {"links_or_lanes", peak.lanes_or_links},
      {"unit", "B/s"}};
  std::string note = peak.note;
  const auto add = [&note](const std::string& s) { note += (note.empty() ? "" : "; ") + s; };
  const auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  if (peak.bytes_per_s > 0) {
    const double ratio = busbw / peak.bytes_per_s;
    j["value"] = peak.bytes_per_s;
    j["ratio"] = ratio;
    j["percent"] = 100.0 * ratio;
    const bool reduces = c == Coll::kAllReduce || c == Coll::kReduceScatter || c == Coll::kReduce;
    const std::string& a = nccl.reported;
    if (ratio <= 1.0) {
      // nothing to explain
    } else if (a == "NVLS" || a == "NVLSTree") {
      add("busbw above the link peak: NCCL ran " + a + " (NVLink SHARP), so the NVSwitch " +
          (reduces ? "reduces" : "multicasts") +
          " the data and each GPU moves fewer bytes than the ring model behind busbw assumes");
    } else if (a == "CollNetDirect" || a == "CollNetChain") {
      add("busbw above the link peak: NCCL ran " + a + ", so the network (SHARP) " +
          (reduces ? "reduces" : "carries part of") +
          " the data and each GPU moves fewer bytes than the ring model behind busbw assumes");
    } else if (!a.empty()) {
      add("busbw above the link peak although NCCL ran " + a +
          ", which sends every byte over the GPU's links: the link peak may be understated "
          "(NVLink count or generation as NVML reported it), or ranks share a GPU");
    } else if (reduces) {
      add("busbw above the link peak: an in-network reduction (NVLS on NVSwitch, SHARP on "
          "InfiniBand) moves fewer bytes per GPU than the ring model behind busbw assumes");
    } else {
      add("busbw above the link peak: the data did not all cross this link (e.g. NVLS "
          "multicast, or ranks sharing a GPU)");
    }
  } else {
    j["value"] = nullptr;
    j["ratio"] = nullptr;
    j["percent"] = nullptr;
  }
  if (multi_node) add("ranks span nodes: the network, not this GPU link, may bound busbw");
  j["nccl_algorithm"] = or_null(nccl.reported);
  j["nccl_algo"] = or_null(nccl.env_algo);
  j["nccl_proto"] = or_null(nccl.env_proto);
  if (!nccl.env_algo.empty()) add("NCCL_ALGO=" + nccl.env_algo + " was requested");
  j["note"] = note;
  return j;
}

}  // namespace goodput::collectives
