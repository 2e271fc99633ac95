// Host-callable GPU timing of one Workload: CUDA events around run(), an L2 flush and input
// rotation before each cold sample, warm-up and stopping decided by harness/core/timing.hpp,
// per-sample NVML telemetry. No CUDA header here.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

#include "harness/core/device_info.hpp"
#include "harness/core/timing.hpp"
#include "harness/core/workload.hpp"

namespace goodput::gpu {

// The workload cannot run here (does not fit in free memory, allocation failed); not an error.
struct WorkloadSkipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One workload set up on its device and ready to time. The constructor selects the device, checks
// the footprint against free memory, allocates the L2 flush buffer and calls setup() (which
// verifies the kernel); the destructor always tears down. Throws WorkloadSkipped, CheckFailed,
// RuntimeFailure or NoGpuError.
class TimedSession {
 public:
  TimedSession(Workload& w, const DeviceInfo& dev, bool flush_l2);
  ~TimedSession();
  TimedSession(const TimedSession&) = delete;
  TimedSession& operator=(const TimedSession&) = delete;
  // One sample: flush L2 and rotate inputs (outside the timed region), then time run(), seconds.
  double time_one();
  std::size_t flush_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole protocol for one workload: setup, warm-up until settled, samples until the stopping
// rule says so, teardown. Never throws for a failure of the workload itself: skipped and failed
// workloads come back with status "skipped"/"error" and the reason; `fatal` is set when the CUDA
// context is unusable afterwards (sticky error) so the caller stops the run. Polls
// goodput::interrupted() between samples. NoGpuError still propagates.
Measurement measure(Workload& w, const DeviceInfo& dev, const TimingConfig& cfg,
                    bool telemetry = true);

// True when the CUDA context of the current device is unusable (a sticky error such as an
// illegal address): every later call would fail.
bool context_lost();

}  // namespace goodput::gpu
