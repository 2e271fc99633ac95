// Kineto / PyTorch-profiler Chrome-trace JSON files: the metadata (baseTimeNanoseconds,
// deviceProperties, distributedInfo, displayTimeUnit) and the `traceEvents` array, cut into runs
// of whole events that a thread per core parses (kineto_events.cpp reads the events of both
// schemas) and merged back in file order. Also the format registry and multi-file reading.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "harness/core/error.hpp"
#include "harness/core/parallel.hpp"
#include "harness/core/signals.hpp"
#include "profiler/trace/byte_source.hpp"
#include "profiler/trace/json_stream.hpp"
#include "profiler/trace/kineto_events.hpp"
#include "profiler/trace/reader.hpp"

namespace goodput::traceio {

using namespace std::string_view_literals;

void HashIndex::grow() {
  slots_.assign(std::max<std::size_t>(64, 2 * slots_.size()), 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t row = 0; row < hashes_.size(); ++row) {
    std::size_t i = hashes_[row] & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = static_cast<std::uint32_t>(row + 1);
  }
}

namespace {
std::uint64_t shape_hash(const OpShapes& s) {
  std::uint64_t h = 0;
  auto mix = [&](std::uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  for (const auto& d : s.input_dims) {
    mix(d.size());
    for (auto x : d) mix(static_cast<std::uint64_t>(x));
  }
  for (const auto& t : s.input_types) mix(text_hash(t));
  for (const auto& c : s.concrete_inputs) mix(text_hash(c));
  return h;
}
bool no_shapes(const OpShapes& s) {
  return s.input_dims.empty() && s.input_types.empty() && s.concrete_inputs.empty();
}
}  // namespace

ShapeId ShapeTable::intern(OpShapes&& s) {
  if (no_shapes(s)) return 0;
  return intern(std::move(s), shape_hash(s));
}

ShapeId ShapeTable::intern(OpShapes&& s, std::uint64_t hash) {
  if (no_shapes(s)) return 0;
  return intern_row(std::move(s), hash);
}

namespace {

// Appends what a later stretch of the same file parsed into `part` (its own name, shape and NCCL
// tables) to `out`. Parts merged in file order give exactly a serial parse's result, ids included:
// each table lists its entries in order of first appearance.
void append_part(RankTrace& out, RankTrace&& part) {
  std::vector<NameId> names(part.names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    names[i] = out.names.intern(part.names.take(static_cast<NameId>(i)),
                                part.names.hash(static_cast<NameId>(i)));
  std::vector<ShapeId> shapes(part.shapes.size(), 0);
  for (std::size_t i = 1; i < shapes.size(); ++i)
    shapes[i] = out.shapes.intern(part.shapes.take(static_cast<ShapeId>(i)),
                                  part.shapes.hash(static_cast<ShapeId>(i)));
  const auto nccl_base = static_cast<std::int32_t>(out.nccl_args.size());
  for (auto& n : part.nccl_args) out.nccl_args.push_back(std::move(n));
  for (auto& g : part.gpu) {
    g.name = names[g.name];
    if (g.nccl >= 0) g.nccl += nccl_base;
    out.gpu.push_back(g);
  }
  for (auto& o : part.ops) {
    o.name = names[o.name];
    o.shapes = shapes[o.shapes];
    out.ops.push_back(o);
  }
  for (auto& r : part.runtime) {
    r.name = names[r.name];
    out.runtime.push_back(r);
  }
  for (auto& e : part.syncs) {
    e.name = names[e.name];
    out.syncs.push_back(e);
  }
  for (auto& a : part.gpu_annotations) {
    a.name = names[a.name];
    out.gpu_annotations.push_back(a);
  }
  for (auto& o : part.overheads) {
    o.name = names[o.name];
    out.overheads.push_back(o);
  }
  for (auto& c : part.counter_ranges) {
    c.name = names[c.name];
    out.counter_ranges.push_back(std::move(c));
  }
  out.flow_events += part.flow_events;
  out.skipped_events += part.skipped_events;
}

std::atomic<bool> guessed_cuts_on{true};

// A guessed cut of the events array failed to prove itself (a run did not parse, or the input
// ended first): the file is read again with the structural scan.
struct GuessMissed {};

// The "traceEvents" array, parsed in parallel: this thread cuts it into runs of whole events
// while a small pool parses the runs, each into its own RankTrace, merged back in file order as
// they finish. Memory stays bounded: at most kInFlight runs of text wait. An array that fits in
// one run is parsed here, with no thread started. Errors come out as a serial parse would give
// them: the first in the file, with the event's index in the whole array.
//
// The cuts: with `guess`, all but the last run's and those in the file's last kGuessTail bytes
// are guessed (JsonStream::guess_elements: a copy, no scan), the rest found by the structural
// scan (take_elements). Runs are merged in file order, and the first run starts at the array's
// start: a run that parses whole from a proven start ends exactly between two elements, which
// proves the next run's start. So a read whose runs all parse is exactly the serial parse; any
// failure throws GuessMissed, and the caller reads the file again without guessing (which also
// gives a real error its exact message).
class ParallelEvents {
 public:
  ParallelEvents(JsonStream& js, RankTrace& out, bool guess)
      : js_(js), out_(out), guess_(guess), run_bytes_(run_bytes(js.size_hint())) {}
  ~ParallelEvents() { stop(); }

  void parse() {
    try {
      parse_runs();
    } catch (const InputError&) {  // not an interruption, which ends the read
      if (!guessed_) throw;
      stop();
      throw GuessMissed{};
    }
  }

 private:
  void parse_runs() {
    js_.expect('[');
    bool after_comma = false;
    for (;;) {
      raise_if_interrupted();  // Ctrl-C stops a long read between runs
      auto seg = std::make_unique<Segment>();
      {
        std::lock_guard lock(mu_);
        if (!spare_.empty()) {  // a merged run's buffer: no fresh allocation and page faults
          seg->text = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      // Guessed while the file (by its size hint) holds more than this run and kGuessTail, so
      // that the array's end and what follows it (Kineto's trailing metadata, a few KiB) are
      // found by the scan. Trailing members larger than that only cost a second read.
      const std::uint64_t hint = js_.size_hint();
      const bool guess = guess_ && js_.offset() + run_bytes_ + kGuessTail < hint;
      const auto took = guess ? js_.guess_elements(seg->text, seg->offset, run_bytes_)
                              : js_.take_elements(seg->text, seg->offset, run_bytes_);
      if (took == JsonStream::Take::kUnsure) throw GuessMissed{};
      guessed_ = guessed_ || guess;
      if (took == JsonStream::Take::kNone) {
        if (after_comma) js_.fail("expected an event object after ',', found ']'");
        break;
      }
      if (took == JsonStream::Take::kLast && !started_) {
        serial(*seg);  // the whole array in one run
        break;
      }
      push(std::move(seg));
      if (took == JsonStream::Take::kLast) break;
      after_comma = true;
      if (!wait_for_room()) break;
    }
    finish();
    stop();
    bool first = false;
    js_.more(']', first);  // the ']', or the error naming what stands there instead
  }

  // Runs of about a sixteenth of the file, 64 to 512 KiB: a small file is cut into enough runs
  // to keep every core busy to its end; a large one into runs whose merge is cheap beside
  // their parse.
  static constexpr std::size_t kMinRun = 64 << 10, kMaxRun = 512 << 10;
  static std::size_t run_bytes(std::uint64_t size_hint) {
    if (size_hint == 0) return kMaxRun;
    return std::clamp<std::size_t>(std::bit_ceil(static_cast<std::size_t>(size_hint / 16)), kMinRun,
                                   kMaxRun);
  }
  static constexpr std::size_t kGuessTail = 256 << 10;
  // Two runs per parse thread on two cores: each run's text is fresh memory until a merged
  // run's buffer comes back, and more in flight only cost page faults (a third of a 10 MB
  // file's) without keeping the threads any busier.
  static constexpr std::size_t kInFlight = 4;

  struct Segment {
    std::string text;
    std::uint64_t offset = 0;
    RankTrace part;
    std::size_t events = 0;
    std::exception_ptr error;
    bool done = false;
  };

  void parse_into(Segment& s, std::size_t first_index) {
    JsonStream in(js_.path(), s.text, s.offset);
    s.events = parse_kineto_events(in, s.part, first_index);
  }

  void serial(Segment& s) {
    parse_into(s, events_);
    events_ += s.events;
    append_part(out_, std::move(s.part));
  }

  void push(std::unique_ptr<Segment> s) {
    std::unique_lock lock(mu_);
    queue_.push_back(std::move(s));
    if (!started_) {
      started_ = true;
      const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
      for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
    }
    cv_.notify_all();
  }

  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || next_ < queue_.size(); });
      if (stop_) return;
      Segment& s = *queue_[next_++];
      lock.unlock();
      try {
        parse_into(s, 0);
      } catch (...) {
        s.error = std::current_exception();
      }
      lock.lock();
      s.done = true;
      cv_.notify_all();
      // The thread that finishes a run merges what is ready at the front, at once: left to the
      // cutting thread, the merges waited for it to be scheduled again, after all the parsing.
      lock.unlock();
      try {
        merge_ready();
      } catch (...) {  // out of memory: reported by the cutting thread, not a terminate here
        std::lock_guard failed(mu_);
        if (!merge_error_) merge_error_ = std::current_exception();
        merging_ = false;
      }
      lock.lock();
      cv_.notify_all();
    }
  }

  bool front_failed() const {
    return !queue_.empty() && queue_.front()->done && queue_.front()->error;
  }

  // Merges the finished runs at the front into out_, in file order, one thread at a time; stops
  // at a run not finished yet, or failed (finish() reports that one).
  void merge_ready() {
    std::lock_guard merging(merge_mu_);
    for (;;) {
      std::unique_ptr<Segment> s;
      {
        std::lock_guard lock(mu_);
        if (queue_.empty() || !queue_.front()->done || queue_.front()->error) return;
        s = std::move(queue_.front());
        queue_.pop_front();
        --next_;
        merging_ = true;
      }
      events_ += s->events;
      append_part(out_, std::move(s->part));
      if (!reserved_) reserve_once(s->text.size());
      {
        std::lock_guard lock(mu_);
        spare_.push_back(std::move(s->text));
        merging_ = false;
      }
      cv_.notify_all();
    }
  }

  // Bounds memory: waits while kInFlight runs are queued. False when the front run failed.
  bool wait_for_room() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kInFlight || front_failed() || merge_error_; });
    return !front_failed() && !merge_error_;
  }

  // Waits until every run is merged. A failed run is parsed again here, numbered from the events
  // before it, for the exact message a serial parse gives.
  void finish() {
    merge_ready();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock,
               [&] { return merge_error_ || (!merging_ && (queue_.empty() || front_failed())); });
      if (merge_error_) {
        lock.unlock();
        stop();
        std::rethrow_exception(merge_error_);
      }
      if (queue_.empty()) return;
    }
    stop();  // the failed run stays at the front until then: no thread merges a run after it
    const std::unique_ptr<Segment> failed = std::move(queue_.front());
    queue_.pop_front();
    failed->part = RankTrace{};
    serial(*failed);
    std::rethrow_exception(failed->error);  // not reached unless the two parses disagree
  }

  // After the first run: room for the whole file's events at that run's density, so that the
  // merged vectors grow once instead of doubling (a copy and fresh pages each time). At most
  // one element per 64 bytes of the file, and only address space until the events fill it.
  void reserve_once(std::size_t run_bytes) {
    reserved_ = true;
    const std::uint64_t total = js_.size_hint();
    if (total <= run_bytes || run_bytes == 0) return;
    const double scale = static_cast<double>(total) / static_cast<double>(run_bytes);
    auto grow = [&](auto& v) {
      const double want = std::ceil(static_cast<double>(v.size()) * scale * 1.02);
      v.reserve(static_cast<std::size_t>(std::min(want, static_cast<double>(total / 64))));
    };
    try {
      grow(out_.gpu);
      grow(out_.ops);
      grow(out_.runtime);
    } catch (const std::bad_alloc&) {
      // A hint too large for this machine: the vectors grow as they fill instead.
    }
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  JsonStream& js_;
  RankTrace& out_;
  const bool guess_;                // cuts may be guessed
  const std::size_t run_bytes_;     // about this many bytes per run
  bool guessed_ = false;            // one was
  std::size_t events_ = 0;          // events merged so far
  std::vector<std::string> spare_;  // text buffers of merged runs, for the next runs
  std::mutex mu_;                   // the queue, spare_ and the flags
  std::mutex merge_mu_;             // held while merging: out_, events_ and reserved_
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Segment>> queue_;  // in file order; [0, next_) taken by workers
  std::size_t next_ = 0;
  bool started_ = false, stop_ = false, reserved_ = false, merging_ = false;
  std::exception_ptr merge_error_;  // a merge on a worker that threw (out of memory)
  std::vector<std::thread> workers_;
};

// Metadata fields read defensively: a field of the wrong type (or a number out of range) counts as
// absent, never as an exception from deep inside the JSON library.
std::string str_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int_field(const nlohmann::json& j, const char* key, std::int64_t fallback,
                       std::int64_t lo = INT32_MIN, std::int64_t hi = INT32_MAX) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    return v <= static_cast<std::uint64_t>(hi) ? static_cast<std::int64_t>(v) : fallback;
  }
  if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    return v >= lo && v <= hi ? v : fallback;
  }
  return fallback;
}

void parse_devices(const nlohmann::json& j, RankTrace& out) {
  if (!j.is_array()) return;
  for (const auto& d : j) {
    if (!d.is_object()) continue;
    DeviceProps p;
    p.id = static_cast<int>(int_field(d, "id", 0));
    p.name = str_field(d, "name");
    p.sms = static_cast<int>(int_field(d, "numSms", 0));
    p.cc_major = static_cast<int>(int_field(d, "computeMajor", 0));
    p.cc_minor = static_cast<int>(int_field(d, "computeMinor", 0));
    p.total_memory = static_cast<std::uint64_t>(int_field(d, "totalGlobalMem", 0, 0, INT64_MAX));
    out.devices.push_back(p);
  }
}

void parse_dist(const nlohmann::json& j, RankTrace& out) {
  if (!j.is_object()) return;
  out.dist.raw = j;
  out.dist.rank = static_cast<int>(int_field(j, "rank", -1, 0));
  out.dist.world_size = static_cast<int>(int_field(j, "world_size", -1, 1));
  out.dist.backend = str_field(j, "backend");
  if (j.contains("nccl_version") && j["nccl_version"].is_string())
    out.dist.nccl_version = j["nccl_version"].get<std::string>();
}

double num_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

// goodput.steps_host entries with the start of their step range (goodput.steps, same range id);
// entries or steps of the wrong shape are left out.
std::vector<StepHost> steps_host(const nlohmann::json& j) {
  std::vector<StepHost> out;
  const auto steps = j.find("steps");
  const auto host = j.find("steps_host");
  if (steps == j.end() || host == j.end() || !steps->is_array() || !host->is_array()) return out;
  std::unordered_map<std::int64_t, double> start_us;
  for (const auto& s : *steps)
    if (s.is_object() && s.contains("cpu_start_us") && s["cpu_start_us"].is_number())
      start_us[int_field(s, "range id", -1, 0, INT64_MAX)] = s["cpu_start_us"].get<double>();
  for (const auto& h : *host) {
    if (!h.is_object()) continue;
    const auto it = start_us.find(int_field(h, "range id", -1, 0, INT64_MAX));
    if (it == start_us.end() || it->first < 0 || !(std::fabs(it->second) < 9e15)) continue;
    StepHost e;
    e.cpu_start_ns = std::llround(it->second * 1e3);
    e.wall_ms = num_field(h, "wall_ms");
    e.process_cpu_ms = num_field(h, "process_cpu_ms");
    e.program_cpu_ms = num_field(h, "program_cpu_ms");
    e.tracer_cpu_ms = num_field(h, "tracer_cpu_ms");
    e.minor_faults = int_field(h, "minor_faults", 0, 0, INT64_MAX);
    e.involuntary_switches = int_field(h, "involuntary_switches", 0, 0, INT64_MAX);
    if (h.contains("steal_ms") && h["steal_ms"].is_number())
      e.steal_ms = h["steal_ms"].get<double>();
    out.push_back(e);
  }
  return out;
}

void parse_tracer_info(const nlohmann::json& j, RankTrace& out) {
  if (str_field(j, "schema") != "goodput.trace") return;
  out.format = "goodput";
  TracerInfo info;
  info.status = str_field(j, "status");
  info.status_reason = str_field(j, "status_reason");
  if (j.contains("capture") && j["capture"].is_object())
    info.step_marker = str_field(j["capture"], "marker");
  info.dropped_records = int_field(j, "dropped_records", 0, 0, INT64_MAX);
  if (j.contains("counters")) info.counters = j["counters"];
  info.steps_host = steps_host(j);
  out.tracer = std::move(info);
}

nlohmann::json small_json(JsonStream& js, const char* field) {
  std::string raw;
  js.read_raw(raw);
  try {
    return nlohmann::json::parse(raw);
  } catch (const nlohmann::json::exception& e) {
    js.fail(std::string("bad \"") + field + "\": " + e.what());
  }
}

RankTrace read_kineto_once(const std::string& path, bool guess_cuts) {
  RankTrace out;
  out.path = path;
  out.format = "kineto";
  JsonStream js(path);
  const char top = js.peek();
  if (top == '[') {
    ParallelEvents(js, out, guess_cuts).parse();  // bare Chrome-trace array form
  } else if (top == '{') {
    js.expect('{');
    bool first = true;
    std::string key;
    bool saw_events = false;
    while (js.more('}', first)) {
      js.read_string(key);
      js.expect(':');
      if (key == "traceEvents"sv) {
        // JSON leaves a repeated key to the reader: Python keeps the last, a merge would count
        // every event twice. Neither is safe to guess.
        if (saw_events) js.fail("a second \"traceEvents\" array: a trace holds one");
        ParallelEvents(js, out, guess_cuts).parse();
        saw_events = true;
      } else if (key == "deviceProperties"sv) {
        parse_devices(small_json(js, "deviceProperties"), out);
      } else if (key == "distributedInfo"sv) {
        parse_dist(small_json(js, "distributedInfo"), out);
      } else if (key == "goodput"sv && js.peek() == '{') {
        parse_tracer_info(small_json(js, "goodput"), out);
      } else if (key == "displayTimeUnit"sv && js.peek() == '"') {
        js.read_string(out.display_time_unit);
      } else if (key == "baseTimeNanoseconds"sv) {
        std::string t;
        if (js.peek() == '"')
          js.read_string(t);
        else
          js.read_number_text(t);
        out.base_time_ns = std::strtoll(t.c_str(), nullptr, 10);
      } else {
        js.skip_value();
      }
    }
    if (!saw_events) js.fail("no \"traceEvents\" array: not a Chrome-trace file");
  } else if (top == '\0' && js.at_end()) {
    js.fail("empty file");
  } else {
    js.fail(top == '\0' ? std::string("not JSON: starts with a NUL byte")
                        : std::string("not JSON: starts with '") + top + "'");
  }
  if (!js.at_end()) js.fail("trailing data after the JSON document");
  out.bytes = js.offset();
  return out;
}

}  // namespace

RankTrace read_kineto(const std::string& path) {
  try {
    return read_kineto_once(path, guessed_cuts_on.load(std::memory_order_relaxed));
  } catch (const GuessMissed&) {
    return read_kineto_once(path, false);
  }
}

bool use_guessed_cuts(bool on) {
  return guessed_cuts_on.exchange(on);
}

std::vector<TraceFormat>& formats() {
  static std::vector<TraceFormat> f = {
      {"kineto",
       // The generic Chrome-trace reader: any JSON object or array that a more specific format
       // did not claim (top-level metadata may precede "traceEvents" by far more than the head).
       [](const std::string& head) { return !head.empty() && (head[0] == '{' || head[0] == '['); },
       read_kineto}};
  return f;
}

void register_format(TraceFormat f) {
  formats().insert(formats().begin(), std::move(f));
}

std::string read_head(const std::string& path) {
  std::string head(4096, '\0');
  std::size_t n = 0;
  try {
    ByteSource src(path);
    while (n < head.size()) {
      const long got = src.read(head.data() + n, head.size() - n);
      if (got <= 0) break;
      n += static_cast<std::size_t>(got);
    }
  } catch (const InputError&) {
    return {};
  }
  head.resize(n);
  const auto b = head.find_first_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : head.substr(b);
}

std::vector<std::string> trace_files_in(const std::string& folder) {
  namespace fs = std::filesystem;
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && (n.ends_with(".json") || n.ends_with(".json.gz")))
      found.push_back(e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

RankTrace read_trace(const std::string& path) {
  // The generic Chrome-trace reader alone needs no sniffing: it names what it finds instead.
  if (formats().size() == 1) return formats().front().read(path);
  const std::string head = read_head(path);
  if (head.empty()) {
    // Let the Kineto reader produce the precise error (empty file, not JSON, bad gzip).
    return read_kineto(path);
  }
  for (const auto& f : formats())
    if (f.sniff(head)) return f.read(path);
  throw InputError(path + ": not a recognised trace format (no \"traceEvents\")");
}

std::vector<RankTrace> read_traces(const std::vector<std::string>& paths,
                                   std::vector<double>* seconds) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      const std::vector<std::string> found = trace_files_in(p);
      if (found.empty()) throw InputError(p + ": folder holds no *.json or *.json.gz trace");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      throw InputError(p + ": no such file or folder");
    }
  }
  if (files.empty()) throw InputError("no trace files given");
  // One file per rank: read them in parallel (each also inflates on its own thread).
  std::vector<RankTrace> out(files.size());
  parallel_for(files.size(), [&](std::size_t i) {  // the first failing file, in the order given
    raise_if_interrupted();
    const auto t0 = std::chrono::steady_clock::now();
    out[i] = read_trace(files[i]);
    out[i].read_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  });
  if (out.size() > 1) {
    // Files without a rank take, in file order, the lowest ranks no file claims: a file's
    // position could be the rank another file names.
    std::set<int> claimed;
    for (const auto& t : out)
      if (t.dist.rank >= 0) claimed.insert(t.dist.rank);
    int next = 0;
    for (auto& t : out) {
      if (t.dist.rank >= 0) continue;
      while (claimed.count(next)) ++next;
      t.dist.rank = next++;
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const RankTrace& a, const RankTrace& b) { return a.rank() < b.rank(); });
    for (std::size_t i = 1; i < out.size(); ++i)
      if (out[i].rank() == out[i - 1].rank())
        throw InputError(out[i].path + ": rank " + std::to_string(out[i].rank()) +
                         " is also the rank of " + out[i - 1].path);
  }
  if (seconds) {
    seconds->clear();
    for (const auto& t : out) seconds->push_back(t.read_seconds);
  }
  return out;
}

}  // namespace goodput::traceio
