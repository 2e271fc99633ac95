#include "profiler/analyze/counters.hpp"

#include <algorithm>
#include <cstdio>

namespace goodput::analyze {
namespace {

constexpr const char* kPrefix = "smsp__sass_thread_inst_executed_op_";
constexpr const char* kSuffix = "_pred_on.sum";

std::string fmt_gflop(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f GFLOP", f / 1e9);
  return buf;
}

}  // namespace

MeasuredFlops& MeasuredFlops::operator+=(const MeasuredFlops& o) {
  fp64 += o.fp64;
  fp32 += o.fp32;
  fp16 += o.fp16;
  tensor += o.tensor;
  any = any || o.any;
  any_tensor = any_tensor || o.any_tensor;
  return *this;
}

MeasuredFlops sass_flops(const std::vector<std::pair<std::string, double>>& metrics) {
  MeasuredFlops f;
  const std::string prefix = kPrefix, suffix = kSuffix;
  const std::string tensor = "sm__ops_path_tensor_";
  for (const auto& [name, value] : metrics) {
    if (name.rfind(tensor, 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".sum") == 0 &&
        name.find("sparsity") == std::string::npos) {
      f.tensor += value;
      f.any = f.any_tensor = true;
      continue;
    }
    if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    // What is left is the precision letter and the operation: "ffma", "hadd", "dmul".
    const std::string op = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (op.size() != 4) continue;
    const double weight = op.compare(1, 3, "fma") == 0                                   ? 2.0
                          : op.compare(1, 3, "add") == 0 || op.compare(1, 3, "mul") == 0 ? 1.0
                                                                                         : 0.0;
    if (weight == 0) continue;
    double* slot = op[0] == 'd'   ? &f.fp64
                   : op[0] == 'f' ? &f.fp32
                   : op[0] == 'h' ? &f.fp16
                                  : nullptr;
    if (!slot) continue;
    *slot += weight * value;
    f.any = true;
  }
  return f;
}

std::map<std::string, MeasuredFlops> flops_by_range_name(const traceio::RankTrace& t) {
  std::map<std::string, MeasuredFlops> out;
  for (const auto& r : t.counter_ranges) out[t.names[r.name]] += sass_flops(r.metrics);
  return out;
}

nlohmann::json counters_json(const traceio::RankTrace& t, const Classifier& classifier,
                             std::size_t top, std::string* report) {
  if (t.counter_ranges.empty()) return nullptr;
  MeasuredFlops total;
  std::map<std::string, double> sums;
  std::map<std::string, double> by_class;
  std::vector<std::pair<double, std::size_t>> ranked;
  std::map<traceio::NameId, const char*> class_of;  // each range name classified once
  auto cls = [&](traceio::NameId n) {
    auto it = class_of.find(n);
    if (it == class_of.end())
      it = class_of.emplace(n, to_string(classifier.classify(t.names[n]))).first;
    return it->second;
  };
  for (std::size_t i = 0; i < t.counter_ranges.size(); ++i) {
    const auto& r = t.counter_ranges[i];
    for (const auto& [m, v] : r.metrics) sums[m] += v;
    const MeasuredFlops f = sass_flops(r.metrics);
    total += f;
    by_class[cls(r.name)] += f.total();
    ranked.emplace_back(f.total(), i);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a > b; });
  nlohmann::json top_json = nlohmann::json::array();
  for (std::size_t k = 0; k < std::min(top, ranked.size()); ++k) {
    const auto& r = t.counter_ranges[ranked[k].second];
    top_json.push_back(
        {{"name", t.names[r.name]}, {"class", cls(r.name)}, {"measured_flops", ranked[k].first}});
  }
  nlohmann::json j = {
      {"ranges", t.counter_ranges.size()}, {"metric_sums", sums}, {"top_ranges", top_json}};
  if (total.any) {
    j["measured_flops"] = {{"fp64", total.fp64},
                           {"fp32", total.fp32},
                           {"fp16", total.fp16},
                           {"tensor", total.tensor},
                           {"total", total.total()},
                           {"by_class", by_class},
                           {"formula",
                            "add + mul + 2*fma of smsp__sass_thread_inst_executed_op_"
                            "{d,f,h}{add,mul,fma}_pred_on.sum, plus sm__ops_path_tensor_*.sum "
                            "(one op = one FLOP)"}};
    if (!total.any_tensor)
      j["measured_flops"]["note"] =
          "no tensor-path counters: SASS instruction counters do not count tensor-core work";
  }
  if (report) {
    *report = "  hardware counters: " + std::to_string(t.counter_ranges.size()) + " ranges";
    if (total.any)
      *report += ", measured " + fmt_gflop(total.total()) + " (fp32 " + fmt_gflop(total.fp32) +
                 ", fp16 " + fmt_gflop(total.fp16) + ", fp64 " + fmt_gflop(total.fp64) +
                 (total.any_tensor ? ", tensor " + fmt_gflop(total.tensor) + ")"
                                   : "; SASS counters, tensor-core work not included)");
    *report += "\n";
  }
  return j;
}

}  // namespace goodput::analyze
