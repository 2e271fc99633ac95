// The NCCL entry points of a build without CUDA: no GPU can be used.
#include "collectives/gpu/nccl_engine.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {

std::unique_ptr<Engine> make_nccl_engine(const EngineOptions&) {
  throw NoGpuError(
      "this goodput was built without CUDA (-DGOODPUT_CUDA=OFF or no nvcc); collectives need "
      "NCCL and a GPU");
}

LinkInfo probe_links(const DeviceInfo&) {
  LinkInfo l;
  l.source = "built without CUDA";
  return l;
}

}  // namespace goodput::collectives
