#include "collectives/calibration.hpp"

#include <algorithm>

#include "collectives/gpu/nccl_engine.hpp"
#include "collectives/runner.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {

nlohmann::json calibration_busbw(const std::vector<DeviceInfo>& devices, bool quick) {
  if (devices.empty()) throw NoGpuError("no GPU given for the collective calibration");
  std::uint64_t bytes = quick ? (256ull << 20) : (1ull << 30);
  for (const auto& d : devices)
    if (d.memory_bytes > 0) bytes = std::min<std::uint64_t>(bytes, d.memory_bytes / 8);
  RunConfig cfg;
  cfg.colls = {Coll::kAllReduce, Coll::kAllGather};
  cfg.dtypes = {DType::kFloat32};
  cfg.sweep.min_bytes = cfg.sweep.max_bytes = bytes;
  cfg.in_place = false;
  cfg.iters = quick ? 10 : 30;
  cfg.warmup = 5;
  cfg.timeout_s = 120;
  EngineOptions opts;
  opts.gpus = static_cast<int>(devices.size());
  auto boot = make_local_bootstrap();
  auto engine = make_nccl_engine(opts);
  engine->init(*boot);
  LinkDb db;
  const LinkDb* links = nullptr;
  try {
    db = load_default_link_db();
    links = &db;
  } catch (const InputError&) {
    // Without the link table the results still carry busbw, only without a link peak.
  }
  nlohmann::json out = nlohmann::json::array();
  const RunSummary s = run_sweep(
      *engine, *boot, cfg, links, [&out](const nlohmann::json& r) { out.push_back(r); }, false);
  if (s.wrong_elements > 0)
    throw CheckFailed("collective calibration: " + std::to_string(s.wrong_elements) +
                      " wrong output element(s)");
  return out;
}

}  // namespace goodput::collectives
