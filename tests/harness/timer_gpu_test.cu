// GPU tests of the timer on a trivial workload; skipped without a device.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "harness/core/error.hpp"
#include "harness/gpu/cuda_check.cuh"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/timer.hpp"

namespace goodput {
namespace {

// Writes a buffer with cudaMemsetAsync: bytes_per_run is exact and needs no kernel of its own.
class MemsetWorkload : public Workload {
 public:
  explicit MemsetWorkload(std::size_t bytes) : bytes_(bytes) {}
  std::string name() const override { return "test/memset"; }
  std::string kind() const override { return "memory"; }
  nlohmann::json params() const override { return {{"op", "memset"}, {"bytes", bytes_}}; }
  double bytes_per_run() const override { return static_cast<double>(bytes_); }
  std::size_t footprint_bytes() const override { return bytes_; }
  void setup() override {
    GOODPUT_CUDA_CHECK(cudaMalloc(&buf_, bytes_));
    ++setups;
  }
  void run(void* stream) override {
    GOODPUT_CUDA_CHECK(cudaMemsetAsync(buf_, 1, bytes_, static_cast<cudaStream_t>(stream)));
  }
  void rotate() override { ++rotations; }
  void teardown() override {
    if (buf_) GOODPUT_CUDA_CHECK(cudaFree(buf_));
    buf_ = nullptr;
    ++teardowns;
  }
  int setups = 0, rotations = 0, teardowns = 0;

 private:
  std::size_t bytes_;
  void* buf_ = nullptr;
};

// Fails verification in setup: the harness must record it and never time it.
class WrongWorkload : public MemsetWorkload {
 public:
  WrongWorkload() : MemsetWorkload(1 << 20) {}
  void setup() override {
    MemsetWorkload::setup();
    throw CheckFailed("element 0: 1 != 2");
  }
};

DeviceInfo device_or_skip() {
  try {
    return gpu::list_devices().at(0);
  } catch (const NoGpuError& e) {
    DeviceInfo none;  // index -1 marks "no device"; the name carries why
    none.index = -1;
    none.name = e.what();
    return none;
  }
}

#define REQUIRE_GPU(dev)                   \
  const DeviceInfo dev = device_or_skip(); \
  if (dev.index < 0) GTEST_SKIP() << "no GPU: " << dev.name

TEST(TimerGpu, TrivialWorkloadGivesPositiveSamples) {
  REQUIRE_GPU(dev);
  MemsetWorkload w(std::size_t{256} << 20);
  const Measurement m = gpu::measure(w, dev, default_timing(true));
  ASSERT_EQ(m.status, "ok") << m.message;
  ASSERT_GE(m.samples.size(), 3u);
  for (double s : m.samples) EXPECT_GT(s, 0);
  EXPECT_NE(m.stop_reason, StopReason::kContinue);
  EXPECT_GE(m.warmup_times.size(), 1u);
  EXPECT_EQ(w.setups, 1);
  EXPECT_EQ(w.teardowns, 1);
  EXPECT_EQ(w.rotations, static_cast<int>(m.samples.size() + m.warmup_times.size()));
  const auto j = measurement_to_json(m, nullptr);
  // A memset of 256 MiB runs somewhere between 10 GB/s and 100 TB/s on any real GPU.
  EXPECT_GT(j["derived"]["bytes_per_s"].get<double>(), 1e10);
  EXPECT_LT(j["derived"]["bytes_per_s"].get<double>(), 1e14);
}

TEST(TimerGpu, TooLargeIsSkippedWithReason) {
  REQUIRE_GPU(dev);
  MemsetWorkload w(dev.memory_bytes * 2);
  const Measurement m = gpu::measure(w, dev, default_timing(true));
  EXPECT_EQ(m.status, "skipped");
  EXPECT_NE(m.message.find("free"), std::string::npos) << m.message;
  EXPECT_EQ(w.setups, 0);
}

TEST(TimerGpu, VerificationFailureIsRecordedAndTornDown) {
  REQUIRE_GPU(dev);
  WrongWorkload w;
  const Measurement m = gpu::measure(w, dev, default_timing(true));
  EXPECT_EQ(m.status, "error");
  EXPECT_NE(m.message.find("verification failed"), std::string::npos);
  EXPECT_TRUE(m.samples.empty());
  EXPECT_EQ(w.teardowns, 1);
  EXPECT_FALSE(m.fatal);
  EXPECT_FALSE(gpu::context_lost());
}

}  // namespace
}  // namespace goodput
