// Kineto / PyTorch-profiler Chrome-trace JSON. Handles the current schema (lower-case categories,
// fractional-microsecond ts/dur, baseTimeNanoseconds, ac2g flows, NCCL args, "Input Dims") and the
// 2021 one (Kernel/Operator/Runtime/Memcpy/Memset categories, "Input dims", "external id",
// string tids). Chrome-trace ts/dur are microseconds whatever displayTimeUnit says (that field
// only sets the viewer's display unit).
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "harness/core/error.hpp"
#include "profiler/trace/byte_source.hpp"
#include "profiler/trace/json_stream.hpp"
#include "profiler/trace/reader.hpp"

namespace goodput::traceio {

using namespace std::string_view_literals;

NameId NameTable::intern(const std::string& s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  const auto id = static_cast<NameId>(names_.size());
  names_.push_back(s);
  index_.emplace(s, id);
  return id;
}

ShapeId ShapeTable::intern(const OpShapes& s) {
  if (s.input_dims.empty() && s.input_types.empty() && s.concrete_inputs.empty()) return 0;
  std::size_t h = 0;
  auto mix = [&](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  for (const auto& d : s.input_dims) {
    mix(d.size());
    for (auto x : d) mix(static_cast<std::size_t>(x));
  }
  for (const auto& t : s.input_types) mix(std::hash<std::string>{}(t));
  for (const auto& c : s.concrete_inputs) mix(std::hash<std::string>{}(c));
  auto [lo, hi] = index_.equal_range(h);
  for (auto it = lo; it != hi; ++it)
    if (shapes_[it->second] == s) return it->second;
  const auto id = static_cast<ShapeId>(shapes_.size());
  shapes_.push_back(s);
  index_.emplace(h, id);
  return id;
}

namespace {

enum class Cat {
  kKernel,
  kMemcpy,
  kMemset,
  kRuntime,
  kCpuOp,
  kAnnotation,
  kGpuAnnotation,
  kCounterRange,
  kFlow,
  kOther
};

Cat category(std::string_view cat) {
  // Checked by length first: this runs once per event.
  switch (cat.size()) {
    case 4:
      if (cat == "ac2g"sv) return Cat::kFlow;
      break;
    case 5:
      if (cat == "async"sv) return Cat::kFlow;
      break;
    case 6:
      if (cat == "kernel"sv || cat == "Kernel"sv) return Cat::kKernel;
      if (cat == "Memcpy"sv) return Cat::kMemcpy;
      if (cat == "Memset"sv) return Cat::kMemset;
      if (cat == "cpu_op"sv) return Cat::kCpuOp;
      break;
    case 7:
      if (cat == "Runtime"sv) return Cat::kRuntime;
      break;
    case 8:
      if (cat == "Operator"sv) return Cat::kCpuOp;
      break;
    case 10:
      if (cat == "gpu_memcpy"sv) return Cat::kMemcpy;
      if (cat == "gpu_memset"sv) return Cat::kMemset;
      break;
    case 11:
      if (cat == "cuda_driver"sv) return Cat::kRuntime;
      break;
    case 12:
      if (cat == "cuda_runtime"sv) return Cat::kRuntime;
      break;
    case 15:
      if (cat == "user_annotation"sv) return Cat::kAnnotation;
      break;
    case 16:
      if (cat == "async_cpu_to_gpu"sv) return Cat::kFlow;
      break;
    case 19:
      if (cat == "gpu_user_annotation"sv) return Cat::kGpuAnnotation;
      if (cat == "cuda_profiler_range"sv) return Cat::kCounterRange;
      break;
    default:
      break;
  }
  return Cat::kOther;
}

// Every arg any event kind may need; reset per event.
struct Args {
  std::int64_t correlation = -1, external_id = -1, bytes = -1;
  int device = -1, stream = -1;
  std::array<int, 3> grid{0, 0, 0}, block{0, 0, 0};
  bool has_nccl = false;
  NcclArgs nccl;
  OpShapes shapes;
  std::optional<double> flops;
  std::vector<std::pair<std::string, double>> metrics;  // counter names hold "__"
  void reset() {
    correlation = external_id = bytes = -1;
    device = stream = -1;
    grid = block = {0, 0, 0};
    has_nccl = false;
    nccl = NcclArgs{};
    shapes.input_dims.clear();
    shapes.input_types.clear();
    shapes.concrete_inputs.clear();
    metrics.clear();
    flops.reset();
  }
};

// The args keys EventParser reads. Looked up by length first, then compared as fixed-size
// memory (inlined): most keys of a Kineto op (ids, strides, call stacks) match none.
enum class ArgKey {
  kNone,
  kCorrelation,
  kExternalId,
  kStream,
  kDevice,
  kGrid,
  kBlock,
  kBytes,
  kCollective,
  kDtype,
  kInNelems,
  kOutNelems,
  kGroupSize,
  kNccl,
  kGroupRanks,
  kInputDims,
  kInputType,
  kConcreteInputs,
  kFlops
};

template <std::size_t N>
bool is(std::string_view k, const char (&lit)[N]) {
  return k.size() == N - 1 && std::memcmp(k.data(), lit, N - 1) == 0;
}

ArgKey arg_key(std::string_view k) {
  switch (k.size()) {
    case 4:
      if (is(k, "grid")) return ArgKey::kGrid;
      if (is(k, "nccl")) return ArgKey::kNccl;
      break;
    case 5:
      if (is(k, "block")) return ArgKey::kBlock;
      if (is(k, "bytes")) return ArgKey::kBytes;
      if (is(k, "dtype")) return ArgKey::kDtype;
      if (is(k, "flops")) return ArgKey::kFlops;
      break;
    case 6:
      if (is(k, "stream")) return ArgKey::kStream;
      if (is(k, "device")) return ArgKey::kDevice;
      break;
    case 10:
      if (is(k, "Group size")) return ArgKey::kGroupSize;
      if (is(k, "Input Dims") || is(k, "Input dims")) return ArgKey::kInputDims;
      if (is(k, "Input type")) return ArgKey::kInputType;
      break;
    case 11:
      if (is(k, "correlation")) return ArgKey::kCorrelation;
      if (is(k, "External id") || is(k, "external id")) return ArgKey::kExternalId;
      break;
    case 13:
      if (is(k, "In msg nelems")) return ArgKey::kInNelems;
      break;
    case 14:
      if (is(k, "Out msg nelems")) return ArgKey::kOutNelems;
      break;
    case 15:
      if (is(k, "Collective name")) return ArgKey::kCollective;
      if (is(k, "Concrete Inputs")) return ArgKey::kConcreteInputs;
      break;
    case 19:
      if (is(k, "Process Group Ranks")) return ArgKey::kGroupRanks;
      break;
    default:
      break;
  }
  return ArgKey::kNone;
}

// Number text as the tokenizer reads it (the characters of kNumberChar).
double number_of(std::string_view t) {
  double d = 0;
  std::from_chars(t.data(), t.data() + t.size(), d);
  return d;
}
std::int64_t integer_of(std::string_view t) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc() && end == t.data() + t.size()) return v;
  double d = 0;  // 1.5, 1e3, overflow
  std::from_chars(t.data(), t.data() + t.size(), d);
  return static_cast<std::int64_t>(d);
}
// An id written as a string: its number ("1890023232"), else a stable hash of the text.
std::int64_t id_of_string(const std::string& s) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && end && *end == '\0') return v;
  return static_cast<std::int64_t>(std::hash<std::string>{}(s)&0x7fffffffffffULL);
}

// What one event says: the fields EventParser reads, before it counts or keeps the event.
struct EventFields {
  std::string ph, cat, name;
  std::int64_t ts = 0, dur = 0, tid = 0;
  bool has_ts = false, has_dur = false;
  Args args;
  void reset() {
    ph.clear();
    cat.clear();
    name.clear();
    ts = dur = tid = 0;
    has_ts = has_dur = false;
    args.reset();
  }
};

// Counts the event (ph and cat read) when it is a flow or of a kind not kept; true then.
bool counted_only(RankTrace& out, std::string_view ph, std::string_view cat) {
  const Cat c = category(cat);
  if (c == Cat::kFlow && (ph == "s"sv || ph == "f"sv || ph == "t"sv)) {
    ++out.flow_events;
    return true;
  }
  if (ph != "X"sv || c == Cat::kOther || c == Cat::kFlow) {
    ++out.skipped_events;
    return true;
  }
  return false;
}

// Appends an event that counted_only() did not count; bad(why) throws the reader's error.
template <class Bad>
void keep_event(RankTrace& out, EventFields& f, Bad&& bad) {
  const Cat c = category(f.cat);
  if (!f.has_ts) bad("missing \"ts\"");
  if (!f.has_dur) bad("missing \"dur\"");
  if (f.dur < 0) bad("negative duration " + std::to_string(f.dur) + " ns");
  // Fields every kept event shares.
  auto base = [&](auto& e) {
    e.name = out.names.intern(f.name);
    e.ts = f.ts;
    e.dur = f.dur;
  };
  switch (c) {
    case Cat::kKernel:
    case Cat::kMemcpy:
    case Cat::kMemset: {
      GpuEvent g;
      base(g);
      g.kind = c == Cat::kKernel   ? GpuKind::kKernel
               : c == Cat::kMemcpy ? GpuKind::kMemcpy
                                   : GpuKind::kMemset;
      g.device = f.args.device;
      g.stream = f.args.stream;
      g.correlation = f.args.correlation;
      g.external_id = f.args.external_id;
      g.grid = f.args.grid;
      g.block = f.args.block;
      g.bytes = f.args.bytes;
      if (f.args.has_nccl) {
        g.nccl = static_cast<std::int32_t>(out.nccl_args.size());
        out.nccl_args.push_back(f.args.nccl);
      }
      out.gpu.push_back(std::move(g));
      break;
    }
    case Cat::kRuntime: {
      RuntimeCall r;
      base(r);
      r.tid = f.tid;
      r.correlation = f.args.correlation;
      r.external_id = f.args.external_id;
      out.runtime.push_back(r);
      break;
    }
    case Cat::kCpuOp:
    case Cat::kAnnotation: {
      CpuOp o;
      base(o);
      o.tid = f.tid;
      o.external_id = f.args.external_id;
      o.annotation = c == Cat::kAnnotation || f.name.rfind("ProfilerStep#", 0) == 0;
      o.shapes = out.shapes.intern(f.args.shapes);
      o.flops = f.args.flops;
      out.ops.push_back(std::move(o));
      break;
    }
    case Cat::kCounterRange: {
      CounterRange cr;
      base(cr);
      cr.metrics = std::move(f.args.metrics);
      out.counter_ranges.push_back(std::move(cr));
      break;
    }
    case Cat::kGpuAnnotation: {
      GpuAnnotation a;
      base(a);
      a.tid = f.tid;
      out.gpu_annotations.push_back(a);
      break;
    }
    default:
      ++out.skipped_events;
  }
}

class EventParser {
 public:
  // first_index: the number of events before the first one this parser sees (error messages).
  EventParser(JsonStream& js, RankTrace& out, std::size_t first_index = 0)
      : js_(js), out_(out), index_(first_index) {}

  // Text cut by JsonStream::take_elements: events separated by commas, up to the end.
  void parse_segment() {
    do {
      parse_event();
    } while (js_.accept(','));
    if (!js_.at_end()) js_.fail(std::string("expected ',' or ']', found '") + js_.peek() + "'");
  }
  std::size_t index() const { return index_; }

 private:
  double number() { return number_of(js_.read_number_view(tmp_)); }
  std::int64_t integer() { return integer_of(js_.read_number_view(tmp_)); }
  // A number, or a string holding one ("1890023232"); other strings hash to a stable id.
  std::int64_t int_or_string() {
    const char c = js_.peek();
    if (c == '"') {
      js_.read_string(tmp_);
      return id_of_string(tmp_);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return integer();
    js_.skip_value();
    return -1;
  }
  void string_or_raw(std::string& s) {
    if (js_.peek() == '"') {
      js_.read_string(s);
    } else {
      s.clear();
      js_.read_raw(s);
    }
  }
  std::string string_or_raw() {
    std::string s;
    string_or_raw(s);
    return s;
  }
  void int3(std::array<int, 3>& v) {
    if (js_.peek() != '[') {
      js_.skip_value();
      return;
    }
    js_.expect('[');
    bool first = true;
    std::size_t i = 0;
    while (js_.more(']', first)) {
      const auto x = integer();
      if (i < 3) v[i] = static_cast<int>(x);
      ++i;
    }
  }
  void dims(std::vector<std::vector<std::int64_t>>& out) {
    out.clear();
    if (js_.peek() != '[') {
      js_.skip_value();
      return;
    }
    js_.expect('[');
    bool first = true;
    while (js_.more(']', first)) {
      out.emplace_back();
      if (js_.peek() != '[') {  // a scalar or null where a shape should be
        js_.skip_value();
        continue;
      }
      js_.expect('[');
      bool f2 = true;
      while (js_.more(']', f2)) {
        if (js_.peek() == '[') {  // TensorList: keep the shape of its first element only
          js_.skip_value();
          continue;
        }
        out.back().push_back(integer());
      }
    }
  }
  void strings(std::vector<std::string>& out) {
    out.clear();
    if (js_.peek() != '[') {
      js_.skip_value();
      return;
    }
    js_.expect('[');
    bool first = true;
    while (js_.more(']', first)) out.push_back(string_or_raw());
  }

  // goodput traces: "nccl": {collective, algorithm, protocol, reduction, dtype} parsed from the
  // kernel name; Kineto's own keys, when also present, win.
  void nccl_object() {
    js_.expect('{');
    f_.args.has_nccl = true;
    bool first = true;
    while (js_.more('}', first)) {
      js_.read_string(key_);
      js_.expect(':');
      if (js_.peek() != '"') {
        js_.skip_value();
        continue;
      }
      js_.read_string(tmp_);
      if (key_ == "collective"sv && f_.args.nccl.collective.empty())
        f_.args.nccl.collective = tmp_;
      else if (key_ == "dtype"sv && f_.args.nccl.dtype.empty())
        f_.args.nccl.dtype = tmp_;
      else if (key_ == "algorithm"sv)
        f_.args.nccl.algorithm = tmp_;
      else if (key_ == "protocol"sv)
        f_.args.nccl.protocol = tmp_;
    }
  }

  void parse_args() {
    js_.expect('{');
    bool first = true;
    while (js_.more('}', first)) {
      // k may point into the chunk: it is only compared before the value is read.
      const std::string_view k = js_.read_string_view(key_);
      js_.expect(':');
      switch (arg_key(k)) {
        case ArgKey::kCorrelation:
          f_.args.correlation = int_or_string();
          continue;
        case ArgKey::kExternalId:
          f_.args.external_id = int_or_string();
          continue;
        case ArgKey::kStream:
          f_.args.stream = static_cast<int>(int_or_string());
          continue;
        case ArgKey::kDevice:
          f_.args.device = static_cast<int>(int_or_string());
          continue;
        case ArgKey::kGrid:
          int3(f_.args.grid);
          continue;
        case ArgKey::kBlock:
          int3(f_.args.block);
          continue;
        case ArgKey::kBytes:
          f_.args.bytes = int_or_string();
          continue;
        case ArgKey::kCollective:
          f_.args.has_nccl = true;
          f_.args.nccl.collective = string_or_raw();
          continue;
        case ArgKey::kDtype:
          f_.args.nccl.dtype = string_or_raw();
          continue;
        case ArgKey::kInNelems:
          f_.args.has_nccl = true;
          f_.args.nccl.in_nelems = int_or_string();
          continue;
        case ArgKey::kOutNelems:
          f_.args.nccl.out_nelems = int_or_string();
          continue;
        case ArgKey::kGroupSize:
          f_.args.nccl.group_size = static_cast<int>(int_or_string());
          continue;
        case ArgKey::kNccl:
          if (js_.peek() == '{') {
            nccl_object();
            continue;
          }
          break;
        case ArgKey::kGroupRanks:
          f_.args.nccl.group_ranks = string_or_raw();
          continue;
        case ArgKey::kInputDims:
          dims(f_.args.shapes.input_dims);
          continue;
        case ArgKey::kInputType:
          strings(f_.args.shapes.input_types);
          continue;
        case ArgKey::kConcreteInputs:
          strings(f_.args.shapes.concrete_inputs);
          continue;
        case ArgKey::kFlops: {
          const char c = js_.peek();
          if (c == '-' || (c >= '0' && c <= '9'))
            f_.args.flops = number();
          else
            js_.skip_value();
          continue;
        }
        case ArgKey::kNone:
          break;
      }
      if (k.find("__"sv) != std::string_view::npos && is_number_start(js_.peek())) {
        // A hardware counter (smsp__..., dram__bytes_read.sum): kept for counter ranges.
        std::string metric(k);  // before number() moves on
        f_.args.metrics.emplace_back(std::move(metric), number());
      } else {
        js_.skip_value();
      }
    }
  }

  static bool is_number_start(char c) { return c == '-' || (c >= '0' && c <= '9'); }

  std::int64_t time_ns(const char* field) {
    const std::string_view v = js_.read_number_view(tmp_);
    try {
      return micros_text_to_ns(v);
    } catch (const std::invalid_argument&) {
      js_.fail(std::string("event #") + std::to_string(index_) + ": bad \"" + field + "\" " +
               std::string(v));
    }
  }

  void parse_event() {
    const std::uint64_t at = js_.offset();
    if (js_.peek() != '{') js_.fail("event #" + std::to_string(index_) + " is not an object");
    js_.expect('{');
    f_.reset();
    bool has_ph = false, has_cat = false;
    bool kept = false;  // ph and cat read, and the event is one that is kept
    bool first = true;
    while (js_.more('}', first)) {
      const std::string_view key = js_.read_string_view(key_);
      js_.expect(':');
      // Compared before the next read: the view may point into the chunk.
      const int which = key.size() == 2   ? (is(key, "ph")   ? 0
                                             : is(key, "ts") ? 3
                                                             : 7)
                        : key.size() == 3 ? (is(key, "cat")   ? 1
                                             : is(key, "dur") ? 4
                                             : is(key, "tid") ? 5
                                                              : 7)
                        : key.size() == 4 ? (is(key, "name")   ? 2
                                             : is(key, "args") ? 6
                                                               : 7)
                                          : 7;
      if (which <= 1) {
        string_or_raw(which == 0 ? f_.ph : f_.cat);
        (which == 0 ? has_ph : has_cat) = true;
        // Kineto writes "ph" and "cat" first: an event that is only counted (flows, Python
        // functions, instant events: most of the bytes of many traces) skips its other members.
        if (has_ph && has_cat && !kept) {
          if (counted_only(out_, f_.ph, f_.cat)) {
            js_.skip_rest();
            ++index_;
            return;
          }
          kept = true;
        }
      } else if (which == 2) {
        string_or_raw(f_.name);
      } else if (which == 3) {
        f_.ts = time_ns("ts");
        f_.has_ts = true;
      } else if (which == 4) {
        f_.dur = time_ns("dur");
        f_.has_dur = true;
      } else if (which == 5) {
        f_.tid = int_or_string();
      } else if (which == 6 && js_.peek() == '{') {
        parse_args();
      } else {
        js_.skip_value();
      }
    }
    const std::size_t idx = index_++;
    if (!kept && counted_only(out_, f_.ph, f_.cat)) return;
    keep_event(out_, f_, [&](const std::string& why) {
      throw InputError(js_.path() + ": byte " + std::to_string(at) + ": event #" +
                       std::to_string(idx) + " (\"" + f_.name.substr(0, 80) + "\", cat " + f_.cat +
                       "): " + why);
    });
  }

  JsonStream& js_;
  RankTrace& out_;
  std::string key_, tmp_;
  EventFields f_;
  std::size_t index_ = 0;
};

// Appends what a later stretch of the same file parsed into `part` (its own name, shape and NCCL
// tables) to `out`. Parts merged in file order give exactly a serial parse's result, ids included:
// each table lists its entries in order of first appearance.
void append_part(RankTrace& out, RankTrace&& part) {
  std::vector<NameId> names(part.names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    names[i] = out.names.intern(part.names[static_cast<NameId>(i)]);
  std::vector<ShapeId> shapes(part.shapes.size(), 0);
  for (std::size_t i = 1; i < shapes.size(); ++i)
    shapes[i] = out.shapes.intern(part.shapes[static_cast<ShapeId>(i)]);
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
  for (auto& a : part.gpu_annotations) {
    a.name = names[a.name];
    out.gpu_annotations.push_back(a);
  }
  for (auto& c : part.counter_ranges) {
    c.name = names[c.name];
    out.counter_ranges.push_back(std::move(c));
  }
  out.flow_events += part.flow_events;
  out.skipped_events += part.skipped_events;
}

// The "traceEvents" array, parsed in parallel: this thread cuts it into runs of whole events
// (JsonStream::take_elements, a structural scan far cheaper than parsing) while a small pool
// parses the runs, each into its own RankTrace, merged back in file order as they finish. Memory
// stays bounded: at most kInFlight runs of text wait. An array that fits in one run is parsed
// here, with no thread started. Errors come out as a serial parse would give them: the first in
// the file, with the event's index in the whole array.
class ParallelEvents {
 public:
  ParallelEvents(JsonStream& js, RankTrace& out) : js_(js), out_(out) {}
  ~ParallelEvents() { stop(); }

  void parse() {
    js_.expect('[');
    bool after_comma = false;
    for (;;) {
      auto seg = std::make_unique<Segment>();
      if (!spare_.empty()) {  // a merged run's buffer: no fresh allocation and page faults
        seg->text = std::move(spare_.back());
        spare_.pop_back();
      }
      const auto took = js_.take_elements(seg->text, seg->offset, kSegmentBytes);
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
      merge_finished(kInFlight - 1);
    }
    merge_finished(0);
    stop();
    bool first = false;
    js_.more(']', first);  // the ']', or the error naming what stands there instead
  }

 private:
  static constexpr std::size_t kSegmentBytes = 512 << 10;
  static constexpr std::size_t kInFlight = 8;

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
    EventParser p(in, s.part, first_index);
    p.parse_segment();
    s.events = p.index() - first_index;
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
    }
  }

  // Merges the finished runs at the front, in order, waiting for them while more than `keep`
  // runs are queued.
  void merge_finished(std::size_t keep) {
    for (;;) {
      std::unique_ptr<Segment> s;
      {
        std::unique_lock lock(mu_);
        if (queue_.size() > keep) cv_.wait(lock, [&] { return queue_.front()->done; });
        if (queue_.empty() || !queue_.front()->done) return;
        s = std::move(queue_.front());
        queue_.pop_front();
        --next_;
        cv_.notify_all();
      }
      if (s->error) {
        // Parse it again here, numbered from the events before it, for the exact message.
        stop();
        s->part = RankTrace{};
        serial(*s);
        std::rethrow_exception(s->error);  // not reached unless the two parses disagree
      }
      events_ += s->events;
      append_part(out_, std::move(s->part));
      spare_.push_back(std::move(s->text));
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
  std::size_t events_ = 0;          // events merged so far
  std::vector<std::string> spare_;  // text buffers of merged runs, for the next runs
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Segment>> queue_;  // in file order; [0, next_) taken by workers
  std::size_t next_ = 0;
  bool started_ = false, stop_ = false;
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

}  // namespace

RankTrace read_kineto(const std::string& path) {
  RankTrace out;
  out.path = path;
  out.format = "kineto";
  JsonStream js(path);
  const char top = js.peek();
  if (top == '[') {
    ParallelEvents(js, out).parse();  // bare Chrome-trace array form
  } else if (top == '{') {
    js.expect('{');
    bool first = true;
    std::string key;
    bool saw_events = false;
    while (js.more('}', first)) {
      js.read_string(key);
      js.expect(':');
      if (key == "traceEvents"sv) {
        ParallelEvents(js, out).parse();
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
  } else if (top == '\0') {
    js.fail("empty file");
  } else {
    js.fail(std::string("not JSON: starts with '") + top + "'");
  }
  if (!js.at_end()) js.fail("trailing data after the JSON document");
  out.bytes = js.offset();
  return out;
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

namespace {
// The first bytes of the uncompressed file, read directly (the full parse comes after).
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
}  // namespace

RankTrace read_trace(const std::string& path) {
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
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        const std::string n = e.path().filename().string();
        auto ends = [&](const char* s) {
          const std::size_t l = std::strlen(s);
          return n.size() >= l && n.compare(n.size() - l, l, s) == 0;
        };
        if (e.is_regular_file() && (ends(".json") || ends(".json.gz"))) found.push_back(e.path());
      }
      std::sort(found.begin(), found.end());
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
  std::vector<std::exception_ptr> errors(files.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < files.size();) {
      try {
        const auto t0 = std::chrono::steady_clock::now();
        out[i] = read_trace(files[i]);
        out[i].read_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const std::size_t workers =
      std::min<std::size_t>(files.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  for (const auto& e : errors)  // the first failing file, in the order given
    if (e) std::rethrow_exception(e);
  if (out.size() > 1) {
    // Files without distributedInfo take their position as rank.
    for (std::size_t i = 0; i < out.size(); ++i)
      if (out[i].dist.rank < 0) out[i].dist.rank = static_cast<int>(i);
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
