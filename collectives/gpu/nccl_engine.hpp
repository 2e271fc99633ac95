// Host-callable entry points of the NCCL side. No CUDA or NCCL header here. In a build without
// CUDA the same functions exist and throw NoGpuError.
#pragma once
#include <memory>

#include "collectives/engine.hpp"
#include "collectives/links.hpp"
#include "harness/core/device_info.hpp"

namespace goodput::collectives {

struct EngineOptions {
  int gpus = 0;  // local launch: GPUs to drive (0 = every visible one)
  // Unless the user set NCCL_DEBUG: have NCCL log its algorithm/protocol choice to a private
  // file (start_nccl_debug_capture) and report it per case.
  bool nccl_log = false;  // NCCL logs every call: opt-in, it can perturb small-size timing
};

// Local launch (Bootstrap "local"): one process drives `gpus` GPUs through ncclCommInitAll.
// MPI launch: one GPU per process, picked by the process's index among those on its host.
// The communicators are created by Engine::init.
std::unique_ptr<Engine> make_nccl_engine(const EngineOptions& opts);

// NVLink generation and active links, PCIe generation and width, from NVML (opened at run
// time); fields stay 0 with `source` saying why when NVML cannot tell.
LinkInfo probe_links(const DeviceInfo& dev);

}  // namespace goodput::collectives
