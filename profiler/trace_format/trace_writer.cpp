#include "profiler/trace_format/trace_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "harness/core/error.hpp"
#include "profiler/trace_format/event_text.hpp"
#include "profiler/trace_format/nccl_kernel.hpp"
#include "profiler/trace_format/trace_files.hpp"
#include "profiler/trace_format/tracer_env.hpp"

namespace goodput::trace {
namespace {

nlohmann::json x_event(const char* cat, const std::string& name, nlohmann::json pid,
                       nlohmann::json tid, std::uint64_t start, std::uint64_t end,
                       std::uint64_t base, nlohmann::json args) {
  return {{"ph", "X"},
          {"cat", cat},
          {"name", name},
          {"pid", std::move(pid)},
          {"tid", std::move(tid)},
          {"ts", to_us(start, base)},
          {"dur", end >= start ? static_cast<double>(end - start) / 1000.0 : 0.0},
          {"args", std::move(args)}};
}

double bandwidth_gbs(std::uint64_t bytes, std::uint64_t start, std::uint64_t end) {
  return end > start ? static_cast<double>(bytes) / static_cast<double>(end - start) : 0.0;
}

}  // namespace

double to_us(std::uint64_t ns, std::uint64_t base_ns) {
  const auto diff = static_cast<std::int64_t>(ns - base_ns);
  // Integer microseconds plus the nanosecond remainder: exact to the nanosecond.
  return static_cast<double>(diff / 1000) + static_cast<double>(diff % 1000) / 1000.0;
}

nlohmann::json kernel_event(const KernelEvent& k, std::uint64_t base_ns) {
  nlohmann::json args = {{"device", k.device},
                         {"context", k.context},
                         {"stream", k.stream},
                         {"correlation", k.correlation},
                         {"registers per thread", k.registers_per_thread},
                         {"shared memory", k.static_shared_memory + k.dynamic_shared_memory},
                         {"static shared memory", k.static_shared_memory},
                         {"dynamic shared memory", k.dynamic_shared_memory},
                         {"grid", {k.grid[0], k.grid[1], k.grid[2]}},
                         {"block", {k.block[0], k.block[1], k.block[2]}}};
  if (k.graph_id) args["graph id"] = k.graph_id;
  if (auto nccl = parse_nccl_kernel(k.name)) {
    // "Collective name" and "dtype" are the keys Kineto uses for NCCL work.
    args["Collective name"] = nccl->collective;
    if (!nccl->dtype.empty()) args["dtype"] = nccl->dtype;
    args["nccl"] = to_json(*nccl);
  }
  return x_event("kernel", k.name, k.device, k.stream, k.start_ns, k.end_ns, base_ns,
                 std::move(args));
}

nlohmann::json memcpy_event(const MemcpyEvent& m, std::uint64_t base_ns) {
  const std::string name = "Memcpy " + m.copy_kind + " (" + m.src_kind + " -> " + m.dst_kind + ")";
  return x_event("gpu_memcpy", name, m.device, m.stream, m.start_ns, m.end_ns, base_ns,
                 {{"device", m.device},
                  {"context", m.context},
                  {"stream", m.stream},
                  {"correlation", m.correlation},
                  {"bytes", m.bytes},
                  {"memory bandwidth (GB/s)", bandwidth_gbs(m.bytes, m.start_ns, m.end_ns)}});
}

nlohmann::json memset_event(const MemsetEvent& m, std::uint64_t base_ns) {
  return x_event("gpu_memset", "Memset (" + m.memory_kind + ")", m.device, m.stream, m.start_ns,
                 m.end_ns, base_ns,
                 {{"device", m.device},
                  {"context", m.context},
                  {"stream", m.stream},
                  {"correlation", m.correlation},
                  {"bytes", m.bytes},
                  {"value", m.value},
                  {"memory bandwidth (GB/s)", bandwidth_gbs(m.bytes, m.start_ns, m.end_ns)}});
}

nlohmann::json api_event(const ApiEvent& a, std::uint64_t base_ns) {
  nlohmann::json args = {{"cbid", a.cbid}, {"correlation", a.correlation}};
  if (a.extra_args.is_object())
    for (auto& [k, v] : a.extra_args.items()) args[k] = v;
  return x_event(a.category.c_str(), a.name, a.pid, a.tid, a.start_ns, a.end_ns, base_ns,
                 std::move(args));
}

nlohmann::json range_event(const RangeRecord& r, std::uint32_t pid, std::uint64_t base_ns) {
  nlohmann::json args = {
      {"range id", r.id}, {"depth", r.depth}, {"kind", r.push_pop ? "push_pop" : "start_end"}};
  if (!r.domain.empty()) args["domain"] = r.domain;
  if (!r.closed) args["closed"] = false;
  return x_event("user_annotation", r.name, pid, r.tid, r.start_ns, r.end_ns, base_ns,
                 std::move(args));
}

nlohmann::json gpu_range_event(const GpuSpan& s, const std::string& name, std::uint64_t base_ns) {
  return x_event("gpu_user_annotation", name, s.device, s.stream, s.start_ns, s.end_ns, base_ns,
                 {{"range id", s.range_id},
                  {"device", s.device},
                  {"stream", s.stream},
                  {"activities", s.count}});
}

nlohmann::json overhead_event(const OverheadEvent& o, std::uint64_t base_ns) {
  return x_event("overhead", o.name, o.pid, o.tid, o.start_ns, o.end_ns, base_ns,
                 nlohmann::json::object());
}

nlohmann::json counter_range_event(const CounterRangeEvent& c, std::uint64_t base_ns) {
  nlohmann::json args = nlohmann::json::object();
  for (const auto& [metric, value] : c.metrics)
    if (std::isfinite(value)) args[metric] = value;
  return x_event("cuda_profiler_range", c.name, c.device, 0, c.start_ns, c.end_ns, base_ns,
                 std::move(args));
}

nlohmann::json flow_event(bool start, std::uint32_t correlation, std::uint32_t pid,
                          std::uint32_t tid, std::uint64_t t_ns, std::uint64_t base_ns) {
  nlohmann::json e = {
      {"ph", start ? "s" : "f"},    {"id", correlation}, {"pid", pid},    {"tid", tid},
      {"ts", to_us(t_ns, base_ns)}, {"cat", "ac2g"},     {"name", "ac2g"}};
  if (!start) e["bp"] = "e";
  return e;
}

bool write_trace_end(std::FILE* f, nlohmann::json top, const std::string& path,
                     std::uint64_t base_ns) {
  std::fputs("\n]", f);
  top["traceName"] = path;
  top["baseTimeNanoseconds"] = base_ns;
  if (!top.contains("displayTimeUnit")) top["displayTimeUnit"] = "ms";
  for (auto& [k, v] : top.items()) {
    const std::string s = ",\n" + nlohmann::json(k).dump() + ": " +
                          v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::fwrite(s.data(), 1, s.size(), f);
  }
  std::fputs("\n}\n", f);
  return std::fflush(f) == 0 && !std::ferror(f);
}

TraceWriter::~TraceWriter() {
  if (file_) std::fclose(file_);
}

namespace {

constexpr std::string_view kRunPrefix = "{\"goodputRun\": \"";
constexpr std::string_view kRunSuffix = "\", \"traceEvents\": [\n";

bool starts_with(std::string_view text, std::string_view head) {
  return text.substr(0, head.size()) == head;
}

// `text` is all there is and `whole` begins with it: the writer stopped inside `whole`.
bool cut_inside(std::string_view text, std::string_view whole) {
  return text.size() < whole.size() && starts_with(whole, text);
}

}  // namespace

std::string trace_header(const std::string& run_id) {
  if (run_id.empty()) return kTraceHeader;
  return std::string(kRunPrefix) + run_id + std::string(kRunSuffix);
}

TraceHeader parse_trace_header(std::string_view text) {
  using State = TraceHeader::State;
  const std::string_view plain = kTraceHeader;
  if (starts_with(text, plain)) return {State::kComplete, plain.size(), ""};
  if (cut_inside(text, plain) || cut_inside(text, kRunPrefix)) return {State::kCut, 0, ""};
  if (!starts_with(text, kRunPrefix)) return {};
  const auto rest = text.substr(kRunPrefix.size());
  const auto quote = rest.find('"');
  const std::string id(rest.substr(0, quote));
  if (!id.empty() && !valid_run_id(id)) return {};
  if (quote == std::string_view::npos) return {State::kCut, 0, ""};  // inside the id
  if (id.empty()) return {};
  const auto after = rest.substr(quote);
  if (starts_with(after, kRunSuffix))
    return {State::kComplete, kRunPrefix.size() + id.size() + kRunSuffix.size(), id};
  if (cut_inside(after, kRunSuffix)) return {State::kCut, 0, ""};
  return {};
}

void TraceWriter::open(const std::string& path, std::uint64_t base_ns, std::uint32_t host_pid,
                       const std::string& run_id) {
  path_ = path;
  run_id_ = run_id;
  partial_ = path + ".partial." + std::to_string(getpid());
  base_ns_ = base_ns;
  host_pid_ = host_pid;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
  }
  file_ = std::fopen(partial_.c_str(), "w");
  if (!file_) throw RuntimeFailure(path + ": cannot write trace (" + std::strerror(errno) + ")");
  std::setvbuf(file_, nullptr, _IOFBF, 1u << 20);  // few large writes while the program runs
  // On disk at once: a process killed before its first flush leaves a partial naming its run.
  std::fputs(trace_header(run_id).c_str(), file_);
  std::fflush(file_);
}

void TraceWriter::event(const nlohmann::json& e) {
  if (!file_) return;
  line(e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void TraceWriter::flush() {
  if (file_) std::fflush(file_);
}

void TraceWriter::line(const std::string& text) {
  if (!file_) return;
  if (events_ > 0) std::fputs(",\n", file_);
  std::fwrite(text.data(), 1, text.size(), file_);
  ++events_;
}

void TraceWriter::flow(bool start, std::uint32_t correlation, std::uint32_t pid, std::uint32_t tid,
                       std::uint64_t t_ns) {
  flow_text(text_, start, correlation, pid, tid, t_ns, base_ns_);
  line(text_);
}

void TraceWriter::gpu_track(std::uint32_t device, std::uint32_t stream) {
  gpu_tracks_.emplace(device, stream);
}

void TraceWriter::kernel(const KernelEvent& k) {
  if (kernel_text(text_, k, base_ns_)) {
    line(text_);
  } else {
    event(kernel_event(k, base_ns_));
  }
  if (k.correlation) flow(false, k.correlation, k.device, k.stream, k.start_ns);
  gpu_track(k.device, k.stream);
}

void TraceWriter::memcpy(const MemcpyEvent& m) {
  memcpy_text(text_, m, base_ns_);
  line(text_);
  if (m.correlation) flow(false, m.correlation, m.device, m.stream, m.start_ns);
  gpu_track(m.device, m.stream);
}

void TraceWriter::memset(const MemsetEvent& m) {
  memset_text(text_, m, base_ns_);
  line(text_);
  if (m.correlation) flow(false, m.correlation, m.device, m.stream, m.start_ns);
  gpu_track(m.device, m.stream);
}

void TraceWriter::api(const ApiEvent& a) {
  if (api_text(text_, a, base_ns_)) {
    line(text_);
  } else {
    event(api_event(a, base_ns_));
  }
  if (a.flow_start && a.correlation) flow(true, a.correlation, a.pid, a.tid, a.start_ns);
  host_threads_.insert(a.tid);
}

void TraceWriter::range(const RangeRecord& r) {
  event(range_event(r, host_pid_, base_ns_));
  host_threads_.insert(static_cast<std::uint32_t>(r.tid));
}

void TraceWriter::gpu_range(const GpuSpan& s, const std::string& name) {
  event(gpu_range_event(s, name, base_ns_));
  gpu_track(s.device, s.stream);
}

void TraceWriter::overhead(const OverheadEvent& o) {
  event(overhead_event(o, base_ns_));
}

void TraceWriter::counter_range(const CounterRangeEvent& c) {
  event(counter_range_event(c, base_ns_));
  counter_devices_.insert(c.device);
}

void TraceWriter::finish(nlohmann::json top, const std::string& process_name) {
  if (!file_) return;
  auto meta = [&](const char* name, std::uint32_t pid, nlohmann::json tid, const std::string& v) {
    event({{"name", name},
           {"ph", "M"},
           {"pid", pid},
           {"tid", std::move(tid)},
           {"args", {{"name", v}}}});
  };
  meta("process_name", host_pid_, 0, process_name);
  for (auto t : host_threads_) meta("thread_name", host_pid_, t, "thread " + std::to_string(t));
  std::set<std::uint32_t> devices;
  for (auto [d, s] : gpu_tracks_) {
    if (devices.insert(d).second) meta("process_name", d, 0, "GPU " + std::to_string(d));
    meta("thread_name", d, s, "stream " + std::to_string(s));
  }
  for (auto d : counter_devices_) {
    if (devices.insert(d).second) meta("process_name", d, 0, "GPU " + std::to_string(d));
    if (!gpu_tracks_.count({d, 0})) meta("thread_name", d, 0, "hardware counters per step");
  }
  if (!run_id_.empty() && trace_run_id(path_) == run_id_) {
    displaced_ = path_;
    path_ = sibling_trace_path(path_, getpid());
  }
  const bool ok = write_trace_end(file_, std::move(top), path_, base_ns_);
  std::fclose(file_);
  file_ = nullptr;
  if (!ok) throw RuntimeFailure(path_ + ": write failed (" + std::strerror(errno) + ")");
  place_finished();
}

void TraceWriter::place_finished() {
  // Without a run id any older trace of the name is replaced, as before runs had ids. With one,
  // the rename must not replace a trace another process of this run finished meanwhile.
  if (!run_id_.empty()) {
    if (renameat2(AT_FDCWD, partial_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) == 0)
      return;
    if (errno == EEXIST && trace_run_id(path_) == run_id_) {
      displaced_ = path_;
      path_ = sibling_trace_path(path_, getpid());
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec) throw RuntimeFailure(path_ + ": cannot rename the finished trace: " + ec.message());
}

void TraceWriter::forget_after_fork() {
  if (!file_) return;
  // fclose would write the parent's buffered bytes a second time; the FILE is leaked instead.
  ::close(fileno(file_));
  file_ = nullptr;
}

}  // namespace goodput::trace
