// The GPU entry points of a host-only build: every one reports that no GPU can be used.
#include "harness/core/error.hpp"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/timer.hpp"

namespace goodput::gpu {
namespace {

[[noreturn]] void no_cuda() {
  throw NoGpuError(
      "this goodput was built without CUDA (-DGOODPUT_CUDA=OFF or no nvcc); GPU commands are "
      "unavailable, analyze/ledger/compare work");
}

}  // namespace

bool built_with_cuda() {
  return false;
}

std::vector<DeviceInfo> list_devices() {
  no_cuda();
}

struct TimedSession::Impl {};
TimedSession::TimedSession(Workload&, const DeviceInfo&, bool) {
  no_cuda();
}
TimedSession::~TimedSession() = default;
double TimedSession::time_one() {
  no_cuda();
}
std::size_t TimedSession::flush_bytes() const {
  return 0;
}
Measurement measure(Workload&, const DeviceInfo&, const TimingConfig&, bool) {
  no_cuda();
}
bool context_lost() {
  return false;
}

}  // namespace goodput::gpu
