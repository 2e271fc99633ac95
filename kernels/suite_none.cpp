// Host-only build: no GPU benchmarks exist, so the suites are empty.
#include "kernels/suite.hpp"

namespace goodput::kernels {

std::vector<WorkloadPtr> memory_suite(const DeviceInfo&, bool) {
  return {};
}
std::vector<WorkloadPtr> gemm_suite(const DeviceInfo&, bool) {
  return {};
}

}  // namespace goodput::kernels
