// CUPTI's own record iterator over synthetic activity buffers: no driver or GPU needed.
#include "profiler/tracer/activity_decode.hpp"

#include <cupti.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace goodput::trace;

namespace {

struct Collect : ActivitySink {
  std::vector<KernelEvent> kernels;
  std::vector<MemcpyEvent> copies;
  std::vector<MemsetEvent> sets;
  std::vector<ApiEvent> apis;
  std::vector<OverheadEvent> overheads;
  std::vector<nlohmann::json> devices;
  int contexts = 0;
  void kernel(const KernelEvent& k) override { kernels.push_back(k); }
  void memcpy(const MemcpyEvent& m) override { copies.push_back(m); }
  void memset(const MemsetEvent& m) override { sets.push_back(m); }
  void api(const ApiEvent& a) override { apis.push_back(a); }
  void overhead(const OverheadEvent& o) override { overheads.push_back(o); }
  void device(const nlohmann::json& d) override { devices.push_back(d); }
  void context(std::uint32_t, std::uint32_t, std::uint32_t) override { ++contexts; }
};

class Buffer {
 public:
  template <typename R>
  void put(const R& r) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + (sizeof(R) + 7) / 8 * 8);
    std::memcpy(bytes_.data() + at, &r, sizeof(R));
  }
  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(storage()); }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::uint64_t* storage() {
    aligned_.assign((bytes_.size() + 7) / 8, 0);
    std::memcpy(aligned_.data(), bytes_.data(), bytes_.size());
    return aligned_.data();
  }
  std::vector<std::uint8_t> bytes_;
  std::vector<std::uint64_t> aligned_;  // 8-byte aligned copy handed to CUPTI
};

CUpti_ActivityAPI api(CUpti_ActivityKind kind, CUpti_CallbackId cbid, std::uint32_t corr,
                      std::uint64_t start) {
  CUpti_ActivityAPI a{};
  a.kind = kind;
  a.cbid = cbid;
  a.start = start;
  a.end = start + 500;
  a.processId = 10;
  a.threadId = 11;
  a.correlationId = corr;
  return a;
}

}  // namespace

TEST(ActivityDecode, DemanglesKernelNames) {
  EXPECT_EQ(demangle("_Z6vecaddPfS_S_i"), "vecadd(float*, float*, float*, int)");
  EXPECT_EQ(demangle("plain_name"), "plain_name");
  EXPECT_EQ(demangle(nullptr), "<unnamed>");
}

TEST(ActivityDecode, SyntheticBufferOfEveryKeptKind) {
  static const char kName[] =
      "_Z40ncclDevKernel_AllReduce_Sum_bf16_RING_LL24ncclDevKernelArgsStorageILm4096EE";
  static const char kDevice[] = "NVIDIA H100 80GB HBM3";
  Buffer b;
  b.put(api(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, 5, 1100));
  b.put(api(CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 5, 1000));
  b.put(api(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, 6,
            1200));  // Triton-style
  b.put(api(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuCtxGetCurrent, 7, 1300));
  b.put(api(CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_RUNTIME_TRACE_CBID_cudaStreamSynchronize_v3020, 8,
            4000));

  CUpti_ActivityKernel10 k{};
  k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
  k.registersPerThread = 96;
  k.start = 2000;
  k.end = 3000;
  k.deviceId = 1;
  k.contextId = 2;
  k.streamId = 13;
  k.gridX = 32, k.gridY = 2, k.gridZ = 1;
  k.blockX = 640, k.blockY = 1, k.blockZ = 1;
  k.staticSharedMemory = 100;
  k.dynamicSharedMemory = 4096;
  k.correlationId = 5;
  k.name = kName;
  b.put(k);

  CUpti_ActivityMemcpy6 m{};
  m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
  m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
  m.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_PINNED;
  m.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
  m.bytes = 1 << 20;
  m.start = 3100;
  m.end = 3600;
  m.streamId = 13;
  m.correlationId = 9;
  b.put(m);

  CUpti_ActivityMemset4 s{};
  s.kind = CUPTI_ACTIVITY_KIND_MEMSET;
  s.bytes = 4096;
  s.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
  s.start = 3700;
  s.end = 3710;
  s.correlationId = 10;
  b.put(s);

  CUpti_ActivitySynchronization2 sync{};
  sync.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
  sync.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE;
  sync.start = 4000;
  sync.end = 4400;
  sync.correlationId = 8;
  sync.streamId = 13;
  sync.cudaEventId = CUPTI_SYNCHRONIZATION_INVALID_VALUE;
  b.put(sync);

  CUpti_ActivityOverhead3 o{};
  o.kind = CUPTI_ACTIVITY_KIND_OVERHEAD;
  o.overheadKind = CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH;
  o.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
  o.objectId.pt.processId = 10;
  o.objectId.pt.threadId = 12;
  o.start = 5000;
  o.end = 5300;
  b.put(o);

  CUpti_ActivityDevice5 d{};
  d.kind = CUPTI_ACTIVITY_KIND_DEVICE;
  d.id = 1;
  d.name = kDevice;
  d.numMultiprocessors = 132;
  d.computeCapabilityMajor = 9;
  d.coreClockRate = 1980000;
  d.globalMemorySize = 85'000'000'000ull;
  d.numThreadsPerWarp = 32;
  d.maxWarpsPerMultiprocessor = 64;
  b.put(d);

  CUpti_ActivityContext3 c{};
  c.kind = CUPTI_ACTIVITY_KIND_CONTEXT;
  c.contextId = 2;
  c.deviceId = 1;
  b.put(c);

  Collect sink;
  const auto counts = decode_activity_buffer(b.data(), b.size(), sink);
  EXPECT_EQ(counts.records, 12u);
  EXPECT_EQ(counts.skipped, 2u);  // the driver twin of a runtime launch, and cuCtxGetCurrent

  ASSERT_EQ(sink.kernels.size(), 1u);
  const auto& kk = sink.kernels[0];
  EXPECT_EQ(kk.name, "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)");
  EXPECT_EQ(kk.device, 1u);
  EXPECT_EQ(kk.stream, 13u);
  EXPECT_EQ(kk.correlation, 5u);
  EXPECT_EQ(kk.grid[1], 2);
  EXPECT_EQ(kk.block[0], 640);
  EXPECT_EQ(kk.registers_per_thread, 96);
  EXPECT_EQ(kk.dynamic_shared_memory, 4096);

  ASSERT_EQ(sink.apis.size(), 4u);
  EXPECT_EQ(sink.apis[0].name, "cudaLaunchKernel");
  EXPECT_EQ(sink.apis[0].category, "cuda_runtime");
  EXPECT_TRUE(sink.apis[0].flow_start);
  EXPECT_EQ(sink.apis[1].name, "cuLaunchKernel");
  EXPECT_EQ(sink.apis[1].category, "cuda_driver");
  EXPECT_EQ(sink.apis[2].name, "cudaStreamSynchronize");
  EXPECT_FALSE(sink.apis[2].flow_start);
  EXPECT_EQ(sink.apis[3].name, "Stream Sync");
  EXPECT_EQ(sink.apis[3].category, "cuda_sync");
  EXPECT_EQ(sink.apis[3].tid, 11u);  // the thread of the runtime call it belongs to
  EXPECT_EQ(sink.apis[3].extra_args["stream"], 13);

  ASSERT_EQ(sink.copies.size(), 1u);
  EXPECT_EQ(sink.copies[0].copy_kind, "HtoD");
  EXPECT_EQ(sink.copies[0].src_kind, "Pinned");
  EXPECT_EQ(sink.copies[0].bytes, 1u << 20);
  ASSERT_EQ(sink.sets.size(), 1u);
  EXPECT_EQ(sink.sets[0].memory_kind, "Device");
  ASSERT_EQ(sink.overheads.size(), 1u);
  EXPECT_EQ(sink.overheads[0].name, "Buffer Flush");
  EXPECT_EQ(sink.overheads[0].tid, 12u);
  ASSERT_EQ(sink.devices.size(), 1u);
  EXPECT_EQ(sink.devices[0]["name"], kDevice);
  EXPECT_EQ(sink.devices[0]["numSms"], 132);
  EXPECT_EQ(sink.devices[0]["maxThreadsPerMultiprocessor"], 2048);
  EXPECT_EQ(sink.devices[0]["coreClockRateKHz"], 1980000);
  EXPECT_EQ(sink.contexts, 1);
}

TEST(ActivityDecode, EmptyOrNullBuffers) {
  Collect sink;
  EXPECT_EQ(decode_activity_buffer(nullptr, 100, sink).records, 0u);
  std::uint64_t zero = 0;
  EXPECT_EQ(decode_activity_buffer(reinterpret_cast<std::uint8_t*>(&zero), 0, sink).records, 0u);
}

TEST(ActivityDecode, RecordsOnlyRuntimeCallsThatLaunchCopySyncOrAllocate) {
  using goodput::trace::recorded_runtime_api;
  for (const char* kept :
       {"cudaLaunchKernel", "cudaLaunchKernelExC", "cudaGraphLaunch", "cudaMemcpyAsync",
        "cudaMemsetAsync", "cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize",
        "cudaStreamWaitEvent", "cudaMalloc", "cudaFree", "cudaDeviceReset"})
    EXPECT_TRUE(recorded_runtime_api(kept)) << kept;
  for (const char* left : {"cudaGetDevice", "cudaGetLastError", "cudaStreamIsCapturing",
                           "cudaEventQuery", "cudaGetDeviceProperties", "cudaEventRecord"})
    EXPECT_FALSE(recorded_runtime_api(left)) << left;

  // Resolved through CUPTI's own name table, which needs no device.
  const auto ids = goodput::trace::recorded_runtime_cbids();
  auto has = [&](CUpti_CallbackId id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  EXPECT_TRUE(has(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000));
  EXPECT_TRUE(has(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060));
  EXPECT_TRUE(has(CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020));
  EXPECT_TRUE(has(CUPTI_RUNTIME_TRACE_CBID_cudaStreamSynchronize_v3020));
  EXPECT_TRUE(has(CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000));
  EXPECT_FALSE(has(CUPTI_RUNTIME_TRACE_CBID_cudaGetDevice_v3020));
  EXPECT_FALSE(has(CUPTI_RUNTIME_TRACE_CBID_cudaGetLastError_v3020));
  EXPECT_LT(ids.size(), static_cast<std::size_t>(CUPTI_RUNTIME_TRACE_CBID_SIZE) / 2);
}

// Every overhead kind CUPTI 13 defines has a name; a kind from a later CUPTI keeps its number.
TEST(ActivityDecode, OverheadKindsAreNamed) {
  EXPECT_EQ(overhead_kind_name(CUPTI_ACTIVITY_OVERHEAD_ACTIVITY_BUFFER_REQUEST),
            "Activity Buffer Request");
  EXPECT_EQ(overhead_kind_name(CUPTI_ACTIVITY_OVERHEAD_LAZY_FUNCTION_LOADING),
            "Lazy Function Loading");
  EXPECT_EQ(overhead_kind_name(CUPTI_ACTIVITY_OVERHEAD_RUNTIME_TRIGGERED_MODULE_LOADING),
            "Runtime Triggered Module Loading");
  EXPECT_EQ(overhead_kind_name(CUPTI_ACTIVITY_OVERHEAD_COMMAND_BUFFER_FULL), "Command Buffer Full");
  EXPECT_EQ(overhead_kind_name(CUPTI_ACTIVITY_OVERHEAD_UVM_ACTIVITY_INIT), "UVM Activity Init");
  EXPECT_EQ(overhead_kind_name(CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH), "Buffer Flush");
  EXPECT_EQ(overhead_kind_name(9u << 16), "Overhead 589824");
}
