// CUPTI's range profiler on one CUDA context, for per-step hardware counters: user ranges (one
// per step, named like the step), user replay, one pass. Never kernel replay: replaying NCCL
// kernels hangs, and a step cannot be replayed by the tracer, so a set that needs more than one
// pass is not collected at all.
//
// Everything here needs a real context: CUPTI crashes when some of these calls (chip name,
// counter availability, enabling) are made without a device. They run only from the tracer's
// context-creation callback and the step ranges that follow it. Every failing call throws
// RuntimeFailure carrying the call and CUPTI's error text.
//
// This path has not run on a GPU in this project's CI (no device there); the host-side decisions
// (CounterSchedule), the configuration and the event writer are tested without one.
#pragma once
#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "profiler/tracer/counters.hpp"

struct CUpti_RangeProfiler_Object;

namespace goodput::trace {

// Sets up CUPTI's profiler interface once per process (cuptiProfilerInitialize).
void initialize_profiler_interface();

// The configuration of `metrics` for the device behind `ctx`: its chip name and counter
// availability come from the device. Device calls: only with a real context.
CounterConfig configure_for_context(CUcontext ctx, std::uint32_t device,
                                    const std::vector<std::string>& metrics);

class RangeProfiler {
 public:
  // Enables the range profiler on ctx and configures it for up to max_ranges user ranges in one
  // pass (counter data image sized for them). config.passes must be 1.
  RangeProfiler(CUcontext ctx, std::uint32_t device, const CounterConfig& config,
                std::size_t max_ranges);
  ~RangeProfiler();  // disables the profiler if still enabled; never throws
  RangeProfiler(const RangeProfiler&) = delete;
  RangeProfiler& operator=(const RangeProfiler&) = delete;

  void start();
  void push(const std::string& name);
  void pop();
  // Ends the pass, decodes the counters into the image and disables the profiler on the context.
  void stop();

  CUcontext context() const { return ctx_; }
  std::uint32_t device() const { return device_; }
  bool started() const { return started_; }
  bool open() const { return open_; }
  bool decoded() const { return decoded_; }
  std::size_t ranges_dropped() const { return dropped_; }
  const std::vector<std::uint8_t>& counter_data() const { return counter_data_; }

 private:
  void disable() noexcept;
  CUcontext ctx_;
  std::uint32_t device_;
  CUpti_RangeProfiler_Object* object_ = nullptr;
  std::vector<std::uint8_t> config_image_;  // CUPTI reads it until the profiler is disabled
  std::vector<std::uint8_t> counter_data_;
  bool started_ = false, open_ = false, decoded_ = false;
  std::size_t dropped_ = 0;
};

}  // namespace goodput::trace
