// The trace file: Chrome-trace JSON in the layout PyTorch's profiler (Kineto) writes, so Perfetto
// opens it and Kineto readers need little extra (profiler/tracer/FORMAT.md). Events stream to a
// partial file as they arrive, so memory stays bounded; finish() appends the top-level metadata
// and renames the file into place, so a reader never sees half a trace.
#pragma once
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/trace_format/ranges.hpp"

namespace goodput::trace {

inline constexpr const char* kTraceSchema = "goodput.trace";
inline constexpr const char* kTraceSchemaVersion = "1.0.0";
// The first line of a trace and partial trace written outside `goodput profile`; events follow
// one per line, separated by ",\n".
inline constexpr const char* kTraceHeader = "{\"traceEvents\": [\n";
// The first line for run `run_id` (tracer_env.hpp kEnvRunId): {"goodputRun": "<id>", "traceEvents":
// [ ; kTraceHeader when run_id is "".
std::string trace_header(const std::string& run_id);
// Reads a first line written by trace_header at the start of `text`.
struct TraceHeader {
  enum class State { kComplete, kCut, kNone } state = State::kNone;  // kCut: `text` ends inside it
  std::size_t length = 0;  // kComplete: bytes of the line, newline included
  std::string run_id;      // kComplete: "" for kTraceHeader
};
TraceHeader parse_trace_header(std::string_view text);

struct KernelEvent {
  std::string name;  // demangled
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint32_t device = 0, context = 0, stream = 0, correlation = 0;
  int grid[3] = {0, 0, 0};
  int block[3] = {0, 0, 0};
  int registers_per_thread = 0;
  int static_shared_memory = 0, dynamic_shared_memory = 0;
  std::uint32_t graph_id = 0;  // 0: not launched from a CUDA graph
};

struct MemcpyEvent {
  std::string copy_kind;           // HtoD, DtoH, DtoD, HtoH, PtoP, ...
  std::string src_kind, dst_kind;  // Pageable, Pinned, Device, Managed, ...
  std::uint64_t bytes = 0;
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint32_t device = 0, context = 0, stream = 0, correlation = 0;
};

struct MemsetEvent {
  std::string memory_kind;  // Device, Pinned, Managed, ...
  std::uint64_t bytes = 0;
  std::uint32_t value = 0;
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint32_t device = 0, context = 0, stream = 0, correlation = 0;
};

// A host-side CUDA call: a runtime or driver API call, or a synchronization.
struct ApiEvent {
  std::string name;      // cudaLaunchKernel, cuLaunchKernel, "Stream Sync", ...
  std::string category;  // cuda_runtime, cuda_driver, cuda_sync
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint32_t pid = 0, tid = 0, correlation = 0, cbid = 0;
  bool flow_start = false;    // launches work on the GPU: an ac2g flow starts here
  nlohmann::json extra_args;  // optional (stream, event, return value)
};

// Time the profiling machinery itself took (CUPTI overhead records, buffer flushes).
struct OverheadEvent {
  std::string name;
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint32_t pid = 0, tid = 0;
};

// Work launched inside one NVTX range, as the GPU ran it (one per device and stream).
struct GpuSpan {
  std::uint64_t range_id = 0;
  std::uint32_t device = 0, stream = 0;
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint32_t count = 0;  // GPU activities in the span
};

// Hardware counters of one step (CUPTI range profiler, user range): the step range's name and
// CPU interval, the device, and the metric values CUPTI evaluated for it.
struct CounterRangeEvent {
  std::string name;
  std::uint32_t device = 0;
  std::uint64_t start_ns = 0, end_ns = 0;
  std::vector<std::pair<std::string, double>> metrics;
};

// Event objects, one per record (exposed for tests and for golden files).
double to_us(std::uint64_t ns, std::uint64_t base_ns);
nlohmann::json kernel_event(const KernelEvent& k, std::uint64_t base_ns);
nlohmann::json memcpy_event(const MemcpyEvent& m, std::uint64_t base_ns);
nlohmann::json memset_event(const MemsetEvent& m, std::uint64_t base_ns);
nlohmann::json api_event(const ApiEvent& a, std::uint64_t base_ns);
nlohmann::json range_event(const RangeRecord& r, std::uint32_t pid, std::uint64_t base_ns);
nlohmann::json gpu_range_event(const GpuSpan& s, const std::string& name, std::uint64_t base_ns);
nlohmann::json overhead_event(const OverheadEvent& o, std::uint64_t base_ns);
// cat "cuda_profiler_range" (Kineto's name), pid = device, tid 0; non-finite values are left out.
nlohmann::json counter_range_event(const CounterRangeEvent& c, std::uint64_t base_ns);
nlohmann::json flow_event(bool start, std::uint32_t correlation, std::uint32_t pid,
                          std::uint32_t tid, std::uint64_t t_ns, std::uint64_t base_ns);

// Closes the event array and writes the top-level members of `top` one per line (the layout
// read_trace_meta relies on), with traceName = path, baseTimeNanoseconds = base_ns and
// displayTimeUnit "ms" unless `top` has one. False on a write error.
bool write_trace_end(std::FILE* f, nlohmann::json top, const std::string& path,
                     std::uint64_t base_ns);

class TraceWriter {
 public:
  TraceWriter() = default;
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Starts "<path>.partial.<pid>" with the first line of run `run_id`. base_ns: "ts" values are
  // microseconds after it (baseTimeNanoseconds in the file). RuntimeFailure when the file cannot
  // be created.
  void open(const std::string& path, std::uint64_t base_ns, std::uint32_t host_pid,
            const std::string& run_id = "");
  bool is_open() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }
  // After finish: the name that already held a trace of this run (another process with the same
  // rank), so that this one went to sibling_trace_path; "" when none did.
  const std::string& displaced() const { return displaced_; }
  std::uint64_t base_ns() const { return base_ns_; }

  void kernel(const KernelEvent& k);
  void memcpy(const MemcpyEvent& m);
  void memset(const MemsetEvent& m);
  void api(const ApiEvent& a);
  void range(const RangeRecord& r);
  void gpu_range(const GpuSpan& s, const std::string& name);
  void overhead(const OverheadEvent& o);
  void counter_range(const CounterRangeEvent& c);
  void event(const nlohmann::json& e);  // any other Chrome-trace event
  // Hands the buffered events to the file, so a process that dies later leaves them behind.
  void flush();
  std::uint64_t events_written() const { return events_; }

  // Appends process/thread names and the top-level fields in `top` (deviceProperties, goodput,
  // distributedInfo, ...), closes and renames into place: over a trace of another run, never
  // over one of this run (see displaced). RuntimeFailure on I/O error.
  void finish(nlohmann::json top, const std::string& process_name);
  // In a forked child: drops the inherited file without flushing the parent's buffered events
  // into it and without touching the parent's partial file.
  void forget_after_fork();

 private:
  void gpu_track(std::uint32_t device, std::uint32_t stream);
  void line(const std::string& text);  // one event's JSON text
  void flow(bool start, std::uint32_t correlation, std::uint32_t pid, std::uint32_t tid,
            std::uint64_t t_ns);
  std::FILE* file_ = nullptr;
  std::string text_;      // reused for each event's text
  void place_finished();  // the rename of finish
  std::string path_, partial_, run_id_, displaced_;
  std::uint64_t base_ns_ = 0;
  std::uint32_t host_pid_ = 0;
  std::uint64_t events_ = 0;
  std::set<std::pair<std::uint32_t, std::uint32_t>> gpu_tracks_;  // (device, stream)
  std::set<std::uint32_t> host_threads_;
  std::set<std::uint32_t> counter_devices_;
};

}  // namespace goodput::trace
