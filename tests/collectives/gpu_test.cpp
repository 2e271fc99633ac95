// On a GPU: every collective runs through NCCL on the visible GPUs and passes the exact check;
// the calibrate hook returns all_reduce and all_gather. Skipped without a GPU.
#include <gtest/gtest.h>

#include "collectives/calibration.hpp"
#include "collectives/gpu/nccl_engine.hpp"
#include "collectives/nccl_choice.hpp"
#include "collectives/runner.hpp"
#include "harness/core/error.hpp"
#include "harness/gpu/gpu.hpp"

namespace goodput::collectives {
namespace {

std::vector<DeviceInfo> devices_or_skip() {
  try {
    return gpu::list_devices();
  } catch (const NoGpuError& e) {
    return {};
  }
}

#define SKIP_WITHOUT_GPU(devs) \
  if ((devs).empty()) GTEST_SKIP() << "no usable GPU (or built without CUDA)"

TEST(NcclEngine, EveryCollectiveChecksExactly) {
  const auto devs = devices_or_skip();
  SKIP_WITHOUT_GPU(devs);
  auto boot = make_local_bootstrap();
  EngineOptions eo;
  eo.nccl_log = true;  // --nccl-log: NCCL names its algorithm and protocol per size
  auto engine = make_nccl_engine(eo);
  engine->init(*boot);
  RunConfig cfg;
  cfg.colls = all_collectives();
  cfg.dtypes = {DType::kFloat32, DType::kBFloat16, DType::kFloat16, DType::kInt8};
  if (devs[0].cc_major >= 9) {
    cfg.dtypes.push_back(DType::kFloat8E4M3);
    cfg.dtypes.push_back(DType::kFloat8E5M2);
  }
  cfg.sweep = {1024, 4 << 20, 64, 0};
  cfg.iters = 5;
  cfg.warmup = 2;
  cfg.timeout_s = 60;
  std::vector<nlohmann::json> results;
  const RunSummary s = run_sweep(
      *engine, *boot, cfg, nullptr, [&](const nlohmann::json& j) { results.push_back(j); }, true);
  EXPECT_EQ(s.wrong_elements, 0u);
  EXPECT_GT(s.results, 0);
  // With goodput's own capture of NCCL's debug output, every collective NCCL plans on two or more
  // ranks names its algorithm and protocol; one rank (a local copy) and send/recv name none.
  const bool captured = engine->details()["nccl_debug"]["mode"] == "goodput";
  for (const auto& j : results) {
    if (j["status"] == "skipped") continue;
    EXPECT_EQ(j["status"], "ok") << j["name"];
    EXPECT_GT(j["stats"]["median"].get<double>(), 0.0);
    const auto& nccl = j["nccl"];
    const bool planned = nccl_func_name(parse_collective(j["params"]["collective"])) != nullptr;
    if (captured && planned && engine->nranks() > 1) {
      EXPECT_TRUE(nccl["algorithm"].is_string()) << j["name"] << ": " << nccl.dump();
      EXPECT_TRUE(nccl["protocol"].is_string()) << j["name"] << ": " << nccl.dump();
    } else {
      EXPECT_TRUE(nccl["algorithm"].is_null()) << j["name"] << ": " << nccl.dump();
      EXPECT_TRUE(nccl["reason"].is_string()) << j["name"] << ": " << nccl.dump();
    }
  }
}

TEST(NcclEngine, OtherOpsGraphsAndBackToBack) {
  const auto devs = devices_or_skip();
  SKIP_WITHOUT_GPU(devs);
  auto boot = make_local_bootstrap();
  auto engine = make_nccl_engine({});
  engine->init(*boot);
  for (const RedOp op : {RedOp::kAvg, RedOp::kMax, RedOp::kMin}) {
    RunConfig cfg;
    cfg.colls = {Coll::kAllReduce, Coll::kReduceScatter, Coll::kReduce};
    cfg.dtypes = {DType::kFloat32, DType::kBFloat16};
    cfg.op = op;
    cfg.sweep = {1 << 20, 1 << 20, 2, 0};
    cfg.iters = 4;
    cfg.graph = op == RedOp::kMax;
    cfg.mode = op == RedOp::kMin ? TimingMode::kBackToBack : TimingMode::kEvents;
    cfg.batch = 4;
    const RunSummary s = run_sweep(
        *engine, *boot, cfg, nullptr, [](const nlohmann::json&) {}, true);
    EXPECT_EQ(s.wrong_elements, 0u) << to_string(op);
  }
}

TEST(NcclEngine, TooManyGpusIsAUsageError) {
  const auto devs = devices_or_skip();
  SKIP_WITHOUT_GPU(devs);
  auto boot = make_local_bootstrap();
  EngineOptions o;
  o.gpus = static_cast<int>(devs.size()) + 1;
  auto engine = make_nccl_engine(o);
  EXPECT_THROW(engine->init(*boot), InputError);
}

TEST(Calibration, AllReduceAndAllGatherBusbw) {
  const auto devs = devices_or_skip();
  SKIP_WITHOUT_GPU(devs);
  const auto r = calibration_busbw(devs, true);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["params"]["collective"], "all_reduce");
  EXPECT_EQ(r[1]["params"]["collective"], "all_gather");
  EXPECT_GT(r[0]["rates"]["algbw"].get<double>(), 0.0);
}

}  // namespace
}  // namespace goodput::collectives
