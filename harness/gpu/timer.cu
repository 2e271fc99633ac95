// CUDA-event timing of Workloads. The policy (warm-up, stopping, result layout) is host code in
// harness/core/timing.cpp; this file only drives the device.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "harness/core/error.hpp"
#include "harness/core/signals.hpp"
#include "harness/gpu/cuda_check.cuh"
#include "harness/gpu/telemetry.hpp"
#include "harness/gpu/timer.hpp"

namespace goodput::gpu {
namespace {

// Room left for the CUDA context, cuBLAS workspaces and allocator slack beyond the footprint.
constexpr std::size_t kMemoryMargin = std::size_t{512} << 20;

std::string gib(std::size_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f GiB", static_cast<double>(bytes) / double(1u << 30));
  return b;
}

bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const DeviceOutOfMemory*>(&e)) return true;
  const std::string what = e.what();
  return what.find("cudaErrorMemoryAllocation") != std::string::npos ||
         what.find("CUBLAS_STATUS_ALLOC_FAILED") != std::string::npos;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct TimedSession::Impl {
  Workload* w = nullptr;
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  void* scratch = nullptr;
  std::size_t scratch_bytes = 0;
  int flush_value = 0;
  bool set_up = false;

  void release() noexcept {
    if (set_up) {
      try {
        w->teardown();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "goodput: teardown of %s failed: %s\n", w->name().c_str(), e.what());
      }
      set_up = false;
    }
    if (scratch) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(scratch));
    if (start) GOODPUT_CUDA_CHECK_NOTHROW(cudaEventDestroy(start));
    if (stop) GOODPUT_CUDA_CHECK_NOTHROW(cudaEventDestroy(stop));
    if (stream) GOODPUT_CUDA_CHECK_NOTHROW(cudaStreamDestroy(stream));
    scratch = nullptr;
    start = stop = nullptr;
    stream = nullptr;
  }
};

TimedSession::TimedSession(Workload& w, const DeviceInfo& dev, bool flush_l2)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.w = &w;
  try {
    GOODPUT_CUDA_CHECK(cudaSetDevice(dev.index));
    // Flush buffer: twice the L2 so that no input line survives a cudaMemsetAsync over it.
    s.scratch_bytes = flush_l2 ? std::max<std::size_t>(2 * dev.l2_bytes, std::size_t{8} << 20) : 0;
    std::size_t free_b = 0, total_b = 0;
    GOODPUT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    const std::size_t need = w.footprint_bytes() + s.scratch_bytes + kMemoryMargin;
    if (need > free_b)
      throw WorkloadSkipped("needs " + gib(w.footprint_bytes()) + " (+" +
                            gib(s.scratch_bytes + kMemoryMargin) + " flush buffer and margin), " +
                            gib(free_b) + " of " + gib(total_b) + " free");
    GOODPUT_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    GOODPUT_CUDA_CHECK(cudaEventCreate(&s.start));
    GOODPUT_CUDA_CHECK(cudaEventCreate(&s.stop));
    if (s.scratch_bytes) GOODPUT_CUDA_CHECK(cudaMalloc(&s.scratch, s.scratch_bytes));
    s.set_up = true;  // teardown() must run even when setup() fails half-way
    w.setup();
    GOODPUT_CUDA_CHECK(cudaDeviceSynchronize());
  } catch (const WorkloadSkipped&) {
    s.release();
    throw;
  } catch (const std::exception& e) {
    s.release();
    if (is_out_of_memory(e)) {
      (void)cudaGetLastError();  // allocation failures are not sticky; clear for the next one
      throw WorkloadSkipped(std::string("device memory allocation failed: ") + e.what());
    }
    throw;
  }
}

TimedSession::~TimedSession() {
  if (impl_) impl_->release();
}

std::size_t TimedSession::flush_bytes() const {
  return impl_->scratch_bytes;
}

double TimedSession::time_one() {
  Impl& s = *impl_;
  if (s.scratch) {
    // A different value each time so the write cannot be elided; queued before the start event,
    // so it is never inside the timed region but keeps the stream busy while run() is enqueued.
    s.flush_value = (s.flush_value + 1) & 0xff;
    GOODPUT_CUDA_CHECK(cudaMemsetAsync(s.scratch, s.flush_value, s.scratch_bytes, s.stream));
  }
  s.w->rotate();
  GOODPUT_CUDA_CHECK(cudaEventRecord(s.start, s.stream));
  s.w->run(s.stream);
  GOODPUT_CUDA_CHECK(cudaEventRecord(s.stop, s.stream));
  GOODPUT_CUDA_CHECK(cudaEventSynchronize(s.stop));
  float ms = 0;
  GOODPUT_CUDA_CHECK(cudaEventElapsedTime(&ms, s.start, s.stop));
  return static_cast<double>(ms) * 1e-3;
}

bool context_lost() {
  (void)cudaGetLastError();
  if (cudaDeviceSynchronize() == cudaSuccess) return false;
  // A non-sticky error is cleared by the first call; a sticky one keeps failing.
  (void)cudaGetLastError();
  const cudaError_t again = cudaDeviceSynchronize();
  return again != cudaSuccess && !is_no_gpu_error(again);
}

Measurement measure(Workload& w, const DeviceInfo& dev, const TimingConfig& cfg, bool telemetry) {
  Measurement m;
  m.name = w.name();
  m.kind = w.kind();
  m.params = w.params();
  m.flops_per_run = w.flops_per_run();
  m.bytes_per_run = w.bytes_per_run();
  m.footprint_bytes = w.footprint_bytes();
  try {
    TimedSession session(w, dev, cfg.flush_l2);
    m.details = w.details();
    auto t0 = std::chrono::steady_clock::now();
    while (!interrupted()) {
      m.warmup_times.push_back(session.time_one());
      m.warmup_end = warmup_status(m.warmup_times, seconds_since(t0), cfg);
      if (m.warmup_end != WarmupEnd::kNotDone) break;
    }
    t0 = std::chrono::steady_clock::now();
    while (!interrupted()) {
      m.samples.push_back(session.time_one());
      // Read right after the sample: the clocks and power the kernel just ran at.
      if (telemetry) m.telemetry.push_back(sample_telemetry(dev));
      m.stop_reason = stop_status(m.samples, seconds_since(t0), cfg);
      if (m.stop_reason != StopReason::kContinue) break;
    }
    if (interrupted()) {
      m.stop_reason = StopReason::kInterrupted;
      if (m.samples.empty()) {
        m.status = "skipped";
        m.message = "interrupted before the first sample";
      }
    }
  } catch (const WorkloadSkipped& e) {
    m.status = "skipped";
    m.message = e.what();
  } catch (const NoGpuError&) {
    throw;
  } catch (const CheckFailed& e) {
    m.status = "error";
    m.message = std::string("verification failed: ") + e.what();
  } catch (const std::exception& e) {
    m.status = "error";
    m.message = e.what();
    m.fatal = context_lost();
    if (m.fatal) m.message += " (the CUDA context is lost; no further workload can run)";
  }
  if (m.status != "ok") {
    m.samples.clear();
    m.telemetry.clear();
  }
  return m;
}

}  // namespace goodput::gpu
