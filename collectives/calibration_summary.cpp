#include "collectives/calibration.hpp"

namespace goodput::collectives {

nlohmann::json best_busbw(const nlohmann::json& results) {
  nlohmann::json best = nlohmann::json::object();
  for (const auto& r : results) {
    const auto& rates = r.value("rates", nlohmann::json::object());
    if (r.value("kind", "") != "collective" || r.value("status", "") != "ok" ||
        !rates.contains("busbw"))
      continue;
    const auto& params = r.value("params", nlohmann::json::object());
    const std::string coll = params.value("collective", r.value("name", "collective"));
    const double busbw = rates["busbw"].get<double>();
    if (best.contains(coll) && best[coll]["busbw"].get<double>() >= busbw) continue;
    best[coll] = {
        {"busbw", busbw},
        {"algbw", rates.value("algbw", 0.0)},
        {"result", r.value("name", "collective")},
        {"ranks", params.value("nranks", 0)},
        {"link", r.value("peaks", nlohmann::json::object()).value("link", nlohmann::json())}};
  }
  return best;
}

}  // namespace goodput::collectives
