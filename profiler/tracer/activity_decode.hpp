// Turns CUPTI activity buffers into the tracer's plain records. The header names no CUPTI type,
// so tests and the tracer share it; the implementation is the only place that reads CUPTI
// record layouts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/trace_format/trace_writer.hpp"

namespace goodput::trace {

class ActivitySink {
 public:
  virtual ~ActivitySink() = default;
  virtual void kernel(const KernelEvent& k) = 0;
  virtual void memcpy(const MemcpyEvent& m) = 0;
  virtual void memset(const MemsetEvent& m) = 0;
  // Runtime and driver calls and synchronizations (category says which).
  virtual void api(const ApiEvent& a) = 0;
  virtual void overhead(const OverheadEvent& o) = 0;
  // One deviceProperties entry (Kineto's keys plus clock facts).
  virtual void device(const nlohmann::json& props) = 0;
  virtual void context(std::uint32_t context, std::uint32_t device, std::uint32_t null_stream) = 0;
};

struct DecodeCounts {
  std::uint64_t records = 0;
  std::uint64_t skipped = 0;  // kinds the trace does not keep, driver calls that are not launches
};

// Every record in one buffer, in order. Driver-API records are kept only for launches and copies
// that no runtime call in the same buffer already stands for (the runtime wraps the driver).
DecodeCounts decode_activity_buffer(std::uint8_t* buffer, std::size_t valid_bytes,
                                    ActivitySink& sink);

// The name of a CUpti_ActivityOverheadKind, as the trace writes it, in Kineto's words ("Activity
// Buffer Request": CUPTI taking, and clearing, a buffer on the program's thread); unknown kinds by
// number.
std::string overhead_kind_name(std::uint32_t kind);

// Runtime calls the trace records: those that launch or copy work, synchronize, allocate or free
// (names without CUPTI's version suffix). Every other call (cudaGetDevice, cudaGetLastError, ...)
// is left out: a PyTorch step makes a dozen of them per kernel, and recording each one costs
// microseconds of the program's own thread.
bool recorded_runtime_api(const std::string& name);

// The runtime callback ids whose names recorded_runtime_api accepts, from CUPTI's own table
// (no device needed).
std::vector<std::uint32_t> recorded_runtime_cbids();

// Demangled kernel name ("_Z..." -> "void f<int>(int*)"); the input when it is not mangled.
std::string demangle(const char* name);

}  // namespace goodput::trace
