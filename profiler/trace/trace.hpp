// Plain data read from one rank's step trace (PyTorch profiler / Kineto Chrome-trace JSON, or
// another format registered in reader.hpp). Times are integer nanoseconds on the trace's own
// clock, parsed exactly from the decimal microsecond text (no double rounding at 1e15 us).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::traceio {

using NameId = std::uint32_t;

// Interned event names: kernels and ops repeat thousands of times.
class NameTable {
 public:
  NameId intern(const std::string& s);
  const std::string& operator[](NameId id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, NameId> index_;
};

enum class GpuKind : std::uint8_t { kKernel, kMemcpy, kMemset };

// NCCL kernel args recorded by Kineto (absent fields stay empty / -1).
struct NcclArgs {
  std::string collective;  // "Collective name": allreduce, allgather, ...
  std::string dtype;       // "dtype": Float, BFloat16, ...
  std::int64_t in_nelems = -1, out_nelems = -1;
  int group_size = -1;
  std::string group_ranks;  // "Process Group Ranks" as recorded
};

struct GpuEvent {
  NameId name = 0;
  GpuKind kind = GpuKind::kKernel;
  std::int64_t ts = 0, dur = 0;  // ns
  int device = -1, stream = -1;
  std::int64_t correlation = -1, external_id = -1;
  std::array<int, 3> grid{0, 0, 0}, block{0, 0, 0};
  std::int64_t bytes = -1;  // memcpy/memset
  std::optional<NcclArgs> nccl;
  std::int64_t end() const { return ts + dur; }
};

// A host-side op or annotation: aten ops, ProfilerStep#N, user ranges.
struct CpuOp {
  NameId name = 0;
  std::int64_t ts = 0, dur = 0;  // ns
  std::int64_t tid = 0;
  std::int64_t external_id = -1;
  bool annotation = false;  // user_annotation (ProfilerStep#N, record_function ranges)
  std::vector<std::vector<std::int64_t>> input_dims;  // "Input Dims" / 2021 "Input dims"
  std::vector<std::string> input_types;               // "Input type"
  std::vector<std::string> concrete_inputs;           // "Concrete Inputs"
  std::optional<double> flops;                        // Kineto with_flops
  std::int64_t end() const { return ts + dur; }
};

// A CUDA runtime/driver call on the host; correlation links it to the GPU work it launched.
struct RuntimeCall {
  NameId name = 0;
  std::int64_t ts = 0, dur = 0;  // ns
  std::int64_t tid = 0;
  std::int64_t correlation = -1, external_id = -1;
  std::int64_t end() const { return ts + dur; }
};

// gpu_user_annotation: a record_function range projected onto a GPU stream.
struct GpuAnnotation {
  NameId name = 0;
  std::int64_t ts = 0, dur = 0;
  std::int64_t tid = 0;
};

struct DeviceProps {
  int id = 0;
  std::string name;
  int sms = 0;
  int cc_major = 0, cc_minor = 0;
  std::uint64_t total_memory = 0;
};

struct DistributedInfo {
  int rank = -1, world_size = -1;
  std::string backend, nccl_version;
  nlohmann::json raw;  // as recorded (process groups)
};

struct RankTrace {
  std::string path;
  std::string format;       // "kineto" ...
  std::uint64_t bytes = 0;  // uncompressed JSON bytes read
  double read_seconds = 0;
  std::string display_time_unit;
  std::optional<std::int64_t> base_time_ns;
  std::vector<DeviceProps> devices;
  DistributedInfo dist;
  NameTable names;
  std::vector<GpuEvent> gpu;
  std::vector<CpuOp> ops;
  std::vector<RuntimeCall> runtime;
  std::vector<GpuAnnotation> gpu_annotations;
  std::int64_t flow_events = 0;     // ac2g / async_cpu_to_gpu / 2021 "async" launch flows
  std::int64_t skipped_events = 0;  // python_function, instant events, metadata...
  int rank() const { return dist.rank >= 0 ? dist.rank : 0; }
};

}  // namespace goodput::traceio
