// Plain data read from one rank's step trace (PyTorch profiler / Kineto Chrome-trace JSON, or
// another format registered in reader.hpp). Times are integer nanoseconds on the trace's own
// clock, parsed exactly from the decimal microsecond text (no double rounding at 1e15 us).
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::traceio {

using NameId = std::uint32_t;

// A hash of text for the intern tables, eight bytes per step (a kernel name runs to hundreds of
// bytes, and each kept event looks its name up): a multiply and a shift per word, then
// MurmurHash3's final mix. Not for anything adversarial; equal text always hashes equal.
inline std::uint64_t text_hash(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  std::uint64_t h = s.size() * kMul;
  const char* p = s.data();
  std::size_t n = s.size();
  auto step = [&](std::uint64_t w) {
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  };
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    step(w);
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    step(w);
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

// The rows of a table by hash: open addressing (at most half full) over row numbers, each row's
// hash kept. A lookup allocates nothing, and a table merged into another passes its hashes on
// instead of reading every row again.
class HashIndex {
 public:
  // The row with this hash for which same(row) holds; else add() appends a row to the table,
  // which is indexed under this hash and returned.
  template <class Same, class Add>
  std::uint32_t find_or_add(std::uint64_t hash, Same&& same, Add&& add) {
    if (2 * (hashes_.size() + 1) > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const std::uint32_t slot = slots_[i];
      if (slot == 0) {
        const auto row = static_cast<std::uint32_t>(hashes_.size());
        add();
        hashes_.push_back(hash);
        slots_[i] = row + 1;
        return row;
      }
      if (hashes_[slot - 1] == hash && same(slot - 1)) return slot - 1;
    }
  }
  std::uint64_t hash(std::uint32_t row) const { return hashes_[row]; }

 private:
  void grow();
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint32_t> slots_;  // row + 1, 0 for an empty slot; a power of two
};

// Interned event names: kernels and ops repeat thousands of times.
class NameTable {
 public:
  NameId intern(std::string_view s) { return intern(s, text_hash(s)); }
  NameId intern(std::string_view s, std::uint64_t hash) {  // hash: text_hash(s)
    return index_.find_or_add(
        hash, [&](NameId id) { return names_[id] == s; }, [&] { names_.emplace_back(s); });
  }
  NameId intern(std::string&& s, std::uint64_t hash) {  // moved in when new
    return index_.find_or_add(
        hash, [&](NameId id) { return names_[id] == s; }, [&] { names_.push_back(std::move(s)); });
  }
  const std::string& operator[](NameId id) const { return names_[id]; }
  std::uint64_t hash(NameId id) const { return index_.hash(id); }
  // Moves a name out, leaving it empty: for merging a table that is then dropped.
  std::string take(NameId id) { return std::move(names_[id]); }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  HashIndex index_;
};

using ShapeId = std::uint32_t;

// What an op recorded about its inputs. Interned: the same shapes repeat every layer and every
// step, so a trace of a million ops holds a few thousand of these.
struct OpShapes {
  std::vector<std::vector<std::int64_t>> input_dims;  // "Input Dims" / 2021 "Input dims"
  std::vector<std::string> input_types;               // "Input type"
  std::vector<std::string> concrete_inputs;           // "Concrete Inputs"
  bool operator==(const OpShapes&) const = default;
};

class ShapeTable {
 public:
  ShapeTable() { intern_row(OpShapes{}, 0); }  // id 0: nothing recorded
  ShapeId intern(OpShapes&& s);                // moved in when new
  // s whose shape_hash is `hash` (a table's hash(id)): merging reuses it.
  ShapeId intern(OpShapes&& s, std::uint64_t hash);
  const OpShapes& operator[](ShapeId id) const { return shapes_[id]; }
  std::uint64_t hash(ShapeId id) const { return index_.hash(id); }
  // Moves a record out, leaving it empty: for merging a table that is then dropped.
  OpShapes take(ShapeId id) { return std::move(shapes_[id]); }
  std::size_t size() const { return shapes_.size(); }

 private:
  ShapeId intern_row(OpShapes&& s, std::uint64_t hash) {
    return index_.find_or_add(
        hash, [&](ShapeId id) { return shapes_[id] == s; },
        [&] { shapes_.push_back(std::move(s)); });
  }
  std::vector<OpShapes> shapes_;
  HashIndex index_;
};

enum class GpuKind : std::uint8_t { kKernel, kMemcpy, kMemset };

// NCCL kernel args recorded by Kineto (absent fields stay empty / -1).
struct NcclArgs {
  std::string collective;  // "Collective name": allreduce, allgather, ...
  std::string dtype;       // "dtype": Float, BFloat16, ...
  std::int64_t in_nelems = -1, out_nelems = -1;
  int group_size = -1;
  std::string group_ranks;          // "Process Group Ranks" as recorded
  std::string algorithm, protocol;  // goodput traces: args.nccl (ring, ll128, ...)
};

struct GpuEvent {
  NameId name = 0;
  GpuKind kind = GpuKind::kKernel;
  std::int64_t ts = 0, dur = 0;  // ns
  int device = -1, stream = -1;
  std::int64_t correlation = -1, external_id = -1;
  std::array<int, 3> grid{0, 0, 0}, block{0, 0, 0};
  std::int64_t bytes = -1;  // memcpy/memset
  std::int32_t nccl = -1;   // index into RankTrace::nccl_args; -1 for non-NCCL work
  std::int64_t end() const { return ts + dur; }
};

// A host-side op or annotation: aten ops, ProfilerStep#N, user ranges.
struct CpuOp {
  NameId name = 0;
  ShapeId shapes = 0;            // into RankTrace::shapes
  std::int64_t ts = 0, dur = 0;  // ns
  std::int64_t tid = 0;
  std::int64_t external_id = -1;
  // Its args' "stream", which torch.compile's Triton launchers record (-1: none). HTA counts
  // such an op as GPU work; the HTA-compatible numbers do too.
  std::int32_t stream = -1;
  bool annotation = false;      // user_annotation (ProfilerStep#N, record_function ranges)
  std::optional<double> flops;  // Kineto with_flops
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

// cuda_sync: the host waiting for a stream, an event or the device (CUPTI's synchronization
// records, which Kineto and goodput's tracer write). Not GPU work; HTA counts the ones on a
// stream as if it were.
struct SyncEvent {
  NameId name = 0;  // Stream Sync, Event Sync, Stream Wait Event, Context Sync
  std::int64_t ts = 0, dur = 0;
  std::int32_t stream = -1;
  std::int64_t correlation = -1;
};

// A hardware-counter range (Kineto's CUPTI range profiler, cat "cuda_profiler_range"): one kernel
// or one step, with metric values such as smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.
// Kineto lays these ranges out one after another: their times are not the kernels' times.
// Time a profiler reported losing on the host (CUPTI overhead records, `cat: overhead`: activity
// buffer requests, lazy function loading, ...). Kineto writes them without the program's thread.
struct ProfilerOverhead {
  NameId name = 0;
  std::int64_t ts = 0, dur = 0;  // ns
  std::int64_t tid = 0;
};

struct CounterRange {
  NameId name = 0;
  std::int64_t ts = 0, dur = 0;
  std::vector<std::pair<std::string, double>> metrics;
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

// What goodput's own tracer adds (its top-level "goodput" object; profiler/tracer/FORMAT.md).
// What the host did during one step, from goodput's tracer (goodput.steps_host joined with
// goodput.steps by range id): milliseconds unless named otherwise.
struct StepHost {
  std::int64_t cpu_start_ns = 0;  // the step range's start, on the events' clock
  double wall_ms = 0, process_cpu_ms = 0, program_cpu_ms = 0, tracer_cpu_ms = 0;
  std::int64_t minor_faults = 0, involuntary_switches = 0;
  std::optional<double> steal_ms;  // stolen time of all CPUs (a VM's host ran something else)
};

struct TracerInfo {
  std::string status, status_reason;  // complete / interrupted / untraced / incomplete ...
  std::string step_marker;            // the NVTX range name that marked steps
  std::int64_t dropped_records = 0;
  nlohmann::json counters;           // per-step hardware counters section, null when not collected
  std::vector<StepHost> steps_host;  // per step, in the tracer's order; empty when not recorded
};

struct RankTrace {
  std::string path;
  std::string format;       // "kineto", or "goodput" for goodput's own tracer output
  std::uint64_t bytes = 0;  // uncompressed JSON bytes read
  double read_seconds = 0;
  std::string display_time_unit;
  std::optional<std::int64_t> base_time_ns;
  std::vector<DeviceProps> devices;
  DistributedInfo dist;
  std::optional<TracerInfo> tracer;  // goodput traces only
  NameTable names;
  std::vector<GpuEvent> gpu;
  std::vector<NcclArgs> nccl_args;  // GpuEvent::nccl points here
  ShapeTable shapes;                // CpuOp::shapes points here
  std::vector<CpuOp> ops;
  std::vector<RuntimeCall> runtime;
  std::vector<GpuAnnotation> gpu_annotations;
  std::vector<SyncEvent> syncs;
  std::vector<ProfilerOverhead> overheads;  // cat "overhead"
  std::vector<CounterRange> counter_ranges;
  std::int64_t flow_events = 0;     // ac2g / async_cpu_to_gpu / 2021 "async" launch flows
  std::int64_t skipped_events = 0;  // python_function, instant events, metadata...
  int rank() const { return dist.rank >= 0 ? dist.rank : 0; }
  const NcclArgs* nccl_of(const GpuEvent& g) const {
    return g.nccl >= 0 ? &nccl_args[static_cast<std::size_t>(g.nccl)] : nullptr;
  }
  const OpShapes& shapes_of(const CpuOp& op) const { return shapes[op.shapes]; }
};

}  // namespace goodput::traceio
