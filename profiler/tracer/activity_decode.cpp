#include "profiler/tracer/activity_decode.hpp"

#include <cupti.h>
#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace goodput::trace {
namespace {

const char* memcpy_kind(std::uint8_t k) {
  switch (k) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
      return "HtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
      return "DtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
      return "HtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
      return "AtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
      return "AtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
      return "AtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA:
      return "DtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
      return "DtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH:
      return "HtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP:
      return "PtoP";
    default:
      return "Unknown";
  }
}

const char* memory_kind(unsigned k) {
  switch (k) {
    case CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE:
      return "Pageable";
    case CUPTI_ACTIVITY_MEMORY_KIND_PINNED:
      return "Pinned";
    case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE:
      return "Device";
    case CUPTI_ACTIVITY_MEMORY_KIND_ARRAY:
      return "Array";
    case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED:
      return "Managed";
    case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC:
      return "Device Static";
    case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED_STATIC:
      return "Managed Static";
    default:
      return "Unknown";
  }
}

const char* sync_name(CUpti_ActivitySynchronizationType t) {
  switch (t) {
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE:
      return "Event Sync";
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT:
      return "Stream Wait Event";
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE:
      return "Stream Sync";
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE:
      return "Context Sync";
    default:
      return "Sync";
  }
}

// The caches below are leaked on purpose: the final flush decodes records from an exit handler,
// and a function-local static first used after that handler was registered is destroyed before
// it runs.

// API names without CUPTI's "_v3020" version suffix, cached: the lookup runs for every record.
const std::string& api_name(CUpti_CallbackDomain domain, CUpti_CallbackId cbid) {
  static auto& mu = *new std::mutex;
  static auto& cache = *new std::unordered_map<std::uint64_t, std::string>;
  const std::uint64_t key = (static_cast<std::uint64_t>(domain) << 32) | cbid;
  std::lock_guard lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const char* raw = nullptr;
  std::string name;
  if (cuptiGetCallbackName(domain, cbid, &raw) == CUPTI_SUCCESS && raw) {
    name = raw;
    const auto v = name.rfind("_v");
    if (v != std::string::npos && v + 2 < name.size() &&
        name.find_first_not_of("0123456789", v + 2) == std::string::npos)
      name.resize(v);
  } else {
    name = (domain == CUPTI_CB_DOMAIN_RUNTIME_API ? "cudaRuntime#" : "cuDriver#") +
           std::to_string(cbid);
  }
  return cache.emplace(key, std::move(name)).first->second;
}

bool launches_work(const std::string& name) {
  return name.find("Launch") != std::string::npos || name.rfind("cudaMemcpy", 0) == 0 ||
         name.rfind("cudaMemset", 0) == 0 || name.rfind("cuMemcpy", 0) == 0 ||
         name.rfind("cuMemset", 0) == 0;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

const std::string& kernel_name(const char* mangled) {
  static auto& mu = *new std::mutex;
  static auto& cache = *new std::unordered_map<const char*, std::string>;  // CUPTI keeps names
  std::lock_guard lock(mu);
  auto it = cache.find(mangled);
  if (it != cache.end()) return it->second;
  return cache.emplace(mangled, demangle(mangled)).first->second;
}

std::string uuid_string(const CUuuid& u) {
  char buf[64];
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  std::snprintf(buf, sizeof buf,
                "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return buf;
}

}  // namespace

bool recorded_runtime_api(const std::string& name) {
  return launches_work(name) || name.find("Synchronize") != std::string::npos ||
         starts_with(name, "cudaStreamWaitEvent") || starts_with(name, "cudaMalloc") ||
         starts_with(name, "cudaFree") || starts_with(name, "cudaDeviceReset");
}

std::vector<std::uint32_t> recorded_runtime_cbids() {
  std::vector<std::uint32_t> out;
  for (std::uint32_t cbid = CUPTI_RUNTIME_TRACE_CBID_INVALID + 1;
       cbid < CUPTI_RUNTIME_TRACE_CBID_SIZE; ++cbid)
    if (recorded_runtime_api(api_name(CUPTI_CB_DOMAIN_RUNTIME_API, cbid))) out.push_back(cbid);
  return out;
}

std::string demangle(const char* name) {
  if (!name) return "<unnamed>";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> d(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}

std::string overhead_kind_name(std::uint32_t kind) {
  // Kineto's names for the same kinds, so the two tracers' overhead events read alike.
  switch (kind) {
    case CUPTI_ACTIVITY_OVERHEAD_DRIVER_COMPILER:
      return "Driver Compiler";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH:
      return "Buffer Flush";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_INSTRUMENTATION:
      return "Instrumentation";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_RESOURCE:
      return "Resource";
    case CUPTI_ACTIVITY_OVERHEAD_RUNTIME_TRIGGERED_MODULE_LOADING:
      return "Runtime Triggered Module Loading";
    case CUPTI_ACTIVITY_OVERHEAD_LAZY_FUNCTION_LOADING:
      return "Lazy Function Loading";
    case CUPTI_ACTIVITY_OVERHEAD_COMMAND_BUFFER_FULL:
      return "Command Buffer Full";
    case CUPTI_ACTIVITY_OVERHEAD_ACTIVITY_BUFFER_REQUEST:
      return "Activity Buffer Request";
    case CUPTI_ACTIVITY_OVERHEAD_UVM_ACTIVITY_INIT:
      return "UVM Activity Init";
    default:
      return "Overhead " + std::to_string(kind);
  }
}

DecodeCounts decode_activity_buffer(std::uint8_t* buffer, std::size_t valid_bytes,
                                    ActivitySink& sink) {
  DecodeCounts counts;
  if (!buffer || valid_bytes == 0) return counts;
  // Pass 1: runtime calls (their driver twins are dropped; synchronizations take their thread).
  std::unordered_map<std::uint32_t, std::uint32_t> runtime_tid;
  CUpti_Activity* rec = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid_bytes, &rec) == CUPTI_SUCCESS) {
    if (rec->kind == CUPTI_ACTIVITY_KIND_RUNTIME) {
      const auto* a = reinterpret_cast<const CUpti_ActivityAPI*>(rec);
      runtime_tid[a->correlationId] = a->threadId;
    }
  }
  const auto pid = static_cast<std::uint32_t>(getpid());
  rec = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid_bytes, &rec) == CUPTI_SUCCESS) {
    ++counts.records;
    switch (rec->kind) {
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
      case CUPTI_ACTIVITY_KIND_KERNEL: {
        const auto* r = reinterpret_cast<const CUpti_ActivityKernel10*>(rec);
        KernelEvent k;
        k.name = kernel_name(r->name);
        k.start_ns = r->start;
        k.end_ns = r->end;
        k.device = r->deviceId;
        k.context = r->contextId;
        k.stream = r->streamId;
        k.correlation = r->correlationId;
        k.grid[0] = r->gridX, k.grid[1] = r->gridY, k.grid[2] = r->gridZ;
        k.block[0] = r->blockX, k.block[1] = r->blockY, k.block[2] = r->blockZ;
        k.registers_per_thread = r->registersPerThread;
        k.static_shared_memory = r->staticSharedMemory;
        k.dynamic_shared_memory = r->dynamicSharedMemory;
        k.graph_id = r->graphId;
        sink.kernel(k);
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMCPY: {
        const auto* r = reinterpret_cast<const CUpti_ActivityMemcpy6*>(rec);
        MemcpyEvent m;
        m.copy_kind = memcpy_kind(r->copyKind);
        m.src_kind = memory_kind(r->srcKind);
        m.dst_kind = memory_kind(r->dstKind);
        m.bytes = r->bytes;
        m.start_ns = r->start;
        m.end_ns = r->end;
        m.device = r->deviceId;
        m.context = r->contextId;
        m.stream = r->streamId;
        m.correlation = r->correlationId;
        sink.memcpy(m);
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMSET: {
        const auto* r = reinterpret_cast<const CUpti_ActivityMemset4*>(rec);
        MemsetEvent m;
        m.memory_kind = memory_kind(r->memoryKind);
        m.bytes = r->bytes;
        m.value = r->value;
        m.start_ns = r->start;
        m.end_ns = r->end;
        m.device = r->deviceId;
        m.context = r->contextId;
        m.stream = r->streamId;
        m.correlation = r->correlationId;
        sink.memset(m);
        break;
      }
      case CUPTI_ACTIVITY_KIND_RUNTIME:
      case CUPTI_ACTIVITY_KIND_DRIVER: {
        const auto* r = reinterpret_cast<const CUpti_ActivityAPI*>(rec);
        const bool runtime = rec->kind == CUPTI_ACTIVITY_KIND_RUNTIME;
        const auto& name =
            api_name(runtime ? CUPTI_CB_DOMAIN_RUNTIME_API : CUPTI_CB_DOMAIN_DRIVER_API, r->cbid);
        const bool launch = launches_work(name);
        if (!runtime && (!launch || runtime_tid.count(r->correlationId))) {
          ++counts.skipped;
          break;
        }
        ApiEvent a;
        a.name = name;
        a.category = runtime ? "cuda_runtime" : "cuda_driver";
        a.start_ns = r->start;
        a.end_ns = r->end;
        a.pid = r->processId;
        a.tid = r->threadId;
        a.correlation = r->correlationId;
        a.cbid = r->cbid;
        a.flow_start = launch;
        if (r->returnValue != 0) a.extra_args = {{"return value", r->returnValue}};
        sink.api(a);
        break;
      }
      case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
        const auto* r = reinterpret_cast<const CUpti_ActivitySynchronization2*>(rec);
        ApiEvent a;
        a.name = sync_name(r->type);
        a.category = "cuda_sync";
        a.start_ns = r->start;
        a.end_ns = r->end;
        a.pid = pid;
        auto it = runtime_tid.find(r->correlationId);
        a.tid = it == runtime_tid.end() ? 0 : it->second;
        a.correlation = r->correlationId;
        a.extra_args = {{"context", r->contextId}};
        if (r->streamId != CUPTI_SYNCHRONIZATION_INVALID_VALUE)
          a.extra_args["stream"] = r->streamId;
        if (r->cudaEventId != CUPTI_SYNCHRONIZATION_INVALID_VALUE)
          a.extra_args["cuda event"] = r->cudaEventId;
        sink.api(a);
        break;
      }
      case CUPTI_ACTIVITY_KIND_OVERHEAD: {
        const auto* r = reinterpret_cast<const CUpti_ActivityOverhead3*>(rec);
        OverheadEvent o;
        o.name = overhead_kind_name(static_cast<std::uint32_t>(r->overheadKind));
        o.start_ns = r->start;
        o.end_ns = r->end;
        if (r->objectKind == CUPTI_ACTIVITY_OBJECT_THREAD ||
            r->objectKind == CUPTI_ACTIVITY_OBJECT_PROCESS) {
          o.pid = r->objectId.pt.processId;
          o.tid = r->objectId.pt.threadId;
        } else {
          o.pid = pid;
        }
        sink.overhead(o);
        break;
      }
      case CUPTI_ACTIVITY_KIND_DEVICE: {
        const auto* r = reinterpret_cast<const CUpti_ActivityDevice5*>(rec);
        sink.device(
            {{"id", r->id},
             {"name", r->name ? r->name : ""},
             {"uuid", uuid_string(r->uuid)},
             {"totalGlobalMem", r->globalMemorySize},
             {"computeMajor", r->computeCapabilityMajor},
             {"computeMinor", r->computeCapabilityMinor},
             {"maxThreadsPerBlock", r->maxThreadsPerBlock},
             {"maxThreadsPerMultiprocessor", r->maxWarpsPerMultiprocessor * r->numThreadsPerWarp},
             {"regsPerBlock", r->maxRegistersPerBlock},
             {"warpSize", r->numThreadsPerWarp},
             {"sharedMemPerBlock", r->maxSharedMemoryPerBlock},
             {"numSms", r->numMultiprocessors},
             {"regsPerMultiprocessor", r->maxRegistersPerMultiprocessor},
             {"sharedMemPerMultiprocessor", r->maxSharedMemoryPerMultiprocessor},
             {"l2CacheSize", r->l2CacheSize},
             {"coreClockRateKHz", r->coreClockRate},
             {"globalMemoryBandwidthKBs", r->globalMemoryBandwidth},
             {"numMemcpyEngines", r->numMemcpyEngines},
             {"eccEnabled", r->eccEnabled != 0},
             {"isMigEnabled", r->isMigEnabled != 0}});
        break;
      }
      case CUPTI_ACTIVITY_KIND_CONTEXT: {
        const auto* r = reinterpret_cast<const CUpti_ActivityContext3*>(rec);
        sink.context(r->contextId, r->deviceId, r->nullStreamId);
        break;
      }
      default:
        ++counts.skipped;
    }
  }
  return counts;
}

}  // namespace goodput::trace
