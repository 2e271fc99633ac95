// Kineto's events, current schema (lower-case categories, fractional-microsecond ts/dur, ac2g
// flows, NCCL args, "Input Dims") and the 2021 one (Kernel/Operator/Runtime/Memcpy/Memset
// categories, "Input dims", "external id", string tids). Chrome-trace ts/dur are microseconds
// whatever displayTimeUnit says (that field only sets the viewer's display unit).
#include "profiler/trace/kineto_events.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/core/error.hpp"

namespace goodput::traceio {

using namespace std::string_view_literals;

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
  kOverhead,
  kSync,
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
      if (cat == "overhead"sv) return Cat::kOverhead;
      break;
    case 9:
      if (cat == "cuda_sync"sv) return Cat::kSync;
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

// A value kept as its text in the run, for reading later if at all.
struct RawValue {
  std::uint64_t at = 0;   // file offset of its first byte
  std::string_view text;  // empty when absent
};

// Every arg any event kind may need; reset per event.
struct Args {
  std::int64_t correlation = -1, external_id = -1, bytes = -1;
  int device = -1, stream = -1;
  std::array<int, 3> grid{0, 0, 0}, block{0, 0, 0};
  bool has_nccl = false;
  bool nccl_written = false;  // any nccl field, so that reset() rebuilds it only then
  NcclArgs nccl;
  NcclArgs& set_nccl() {
    nccl_written = true;
    return nccl;
  }
  // An op's shape args as text: read into `shapes` only the first time a run sees that text.
  RawValue dims_raw, types_raw, concrete_raw;
  OpShapes shapes;
  std::optional<double> flops;
  std::vector<std::pair<std::string, double>> metrics;  // counter names hold "__"
  void reset() {
    correlation = external_id = bytes = -1;
    device = stream = -1;
    grid = block = {0, 0, 0};
    has_nccl = false;
    if (nccl_written) {
      nccl = NcclArgs{};
      nccl_written = false;
    }
    dims_raw = types_raw = concrete_raw = {};
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

// Whether t is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. The tokenizer takes
// any run of number characters ("1e", "8+51"); a field that is read must hold a real number.
bool json_number(std::string_view t) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < t.size() && t[i] == '.' && (++i, !digits())) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// Number text as the tokenizer reads it (the characters of kNumberChar).
double number_of(std::string_view t) {
  double d = 0;
  std::from_chars(t.data(), t.data() + t.size(), d);
  return d;
}
// Plain decimal digits with an optional '-' and no leading zero, as nearly every id, pid and
// size is: one loop (18 digits cannot overflow). False for anything else.
bool plain_integer(std::string_view t, std::int64_t& v) {
  const bool neg = !t.empty() && t[0] == '-';
  const std::size_t first = neg ? 1 : 0;
  if (t.size() <= first || t.size() > 18) return false;
  if (t[first] == '0' && t.size() > first + 1) return false;  // "025": not JSON
  std::uint64_t u = 0;
  for (std::size_t i = first; i < t.size(); ++i) {
    const unsigned d = static_cast<unsigned char>(t[i]) - unsigned{'0'};
    if (d > 9) return false;
    u = u * 10 + d;
  }
  v = neg ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
  return true;
}
std::int64_t integer_of(std::string_view t) {
  if (std::int64_t v; plain_integer(t, v)) return v;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc() && end == t.data() + t.size()) return v;
  double d = 0;  // 1.5, 1e3, overflow
  std::from_chars(t.data(), t.data() + t.size(), d);
  // Past the range of int64 (an id written as 1e29): saturated, never an undefined conversion.
  if (d >= 9.2e18) return INT64_MAX;
  if (d <= -9.2e18) return INT64_MIN;
  return static_cast<std::int64_t>(d);
}
// An id written as a string: its number ("1890023232"), else a stable hash of the text.
std::int64_t id_of_string(std::string_view text) {
  if (std::int64_t v; plain_integer(text, v)) return v;
  const std::string s(text);
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && end && *end == '\0') return v;
  return static_cast<std::int64_t>(std::hash<std::string>{}(s)&0x7fffffffffffULL);
}

// Overhead events in Kineto's words: goodput traces written before the tracer named every CUPTI
// overhead kind say "CUPTI overhead <kind>" (CUpti_ActivityOverheadKind values) or used their own
// words for the older kinds.
std::string overhead_name(std::string_view name) {
  static const std::pair<std::string_view, const char*> kOld[] = {
      {"Driver compiler", "Driver Compiler"},
      {"CUPTI buffer flush", "Buffer Flush"},
      {"CUPTI instrumentation", "Instrumentation"},
      {"CUPTI resource", "Resource"},
      {"CUPTI overhead 262144", "Runtime Triggered Module Loading"},
      {"CUPTI overhead 327680", "Lazy Function Loading"},
      {"CUPTI overhead 393216", "Command Buffer Full"},
      {"CUPTI overhead 458752", "Activity Buffer Request"},
      {"CUPTI overhead 524288", "UVM Activity Init"}};
  for (const auto& [old, now] : kOld)
    if (name == old) return now;
  return std::string(name);
}

// What one event says: the fields EventParser reads, before it counts or keeps the event.
struct EventFields {
  // Views into the event's text (kept in memory while it is parsed), or into the buffers
  // below for a string with escapes or a value that is not a string.
  std::string_view ph, cat, name;
  std::string ph_buf, cat_buf, name_buf;
  std::int64_t ts = 0, dur = 0, tid = 0;
  bool has_ts = false, has_dur = false;
  ShapeId shapes = 0;  // an op's, in the run's table
  Args args;
  void reset() {
    ph = cat = name = {};
    ts = dur = tid = 0;
    shapes = 0;
    has_ts = has_dur = false;
    args.reset();
  }
};

// The category of an event that is kept (ph and cat read); nullopt after counting one that is
// only counted: a flow, or a kind not kept.
std::optional<Cat> kept_category(RankTrace& out, std::string_view ph, std::string_view cat) {
  const Cat c = category(cat);
  if (c == Cat::kFlow && (ph == "s"sv || ph == "f"sv || ph == "t"sv)) {
    ++out.flow_events;
    return std::nullopt;
  }
  if (ph != "X"sv || c == Cat::kOther || c == Cat::kFlow) {
    ++out.skipped_events;
    return std::nullopt;
  }
  return c;
}

// Appends an event of kept category c; bad(why) throws the reader's error.
template <class Bad>
void keep_event(RankTrace& out, EventFields& f, Cat c, Bad&& bad) {
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
      o.shapes = f.shapes;
      o.stream = f.args.stream;
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
    case Cat::kSync: {
      SyncEvent e;
      base(e);
      e.stream = f.args.stream;
      e.correlation = f.args.correlation;
      out.syncs.push_back(e);
      break;
    }
    case Cat::kOverhead: {
      f.name_buf = overhead_name(f.name);
      f.name = f.name_buf;
      ProfilerOverhead o;
      base(o);
      o.tid = f.tid;
      out.overheads.push_back(o);
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
    if (!js_.at_end()) js_.fail_expected("',' or ']'", js_.peek());
  }
  std::size_t index() const { return index_; }

 private:
  double number() { return number_of(checked(js_.read_number_view(tmp_))); }
  std::int64_t integer() {
    const std::string_view t = js_.read_number_view(tmp_);
    if (std::int64_t v; plain_integer(t, v)) return v;  // nearly every id, pid and size
    return integer_of(checked(t));
  }
  std::string_view checked(std::string_view number) {
    if (!json_number(number))
      js_.fail("event #" + std::to_string(index_) + ": bad number " + std::string(number));
    return number;
  }
  // A number, or a string holding one ("1890023232"); other strings hash to a stable id.
  std::int64_t int_or_string() {
    const char c = js_.peek();
    if (c == '"') return id_of_string(js_.read_string_view(tmp_));
    if (c == '-' || (c >= '0' && c <= '9')) return integer();
    js_.skip_value();
    return -1;
  }
  // A string's text as a view (see EventFields), or any other value's raw JSON in buf.
  std::string_view string_view_or_raw(std::string& buf) {
    if (js_.peek() == '"') return js_.read_string_view(buf);
    buf.clear();
    js_.read_raw(buf);
    return buf;
  }
  std::string string_or_raw() { return std::string(string_view_or_raw(tmp_)); }
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
  // "Input Dims" into f_.args.shapes.input_dims.
  void dims() {
    Args& a = f_.args;
    a.shapes.input_dims.clear();
    if (js_.peek() != '[') {
      js_.skip_value();
      return;
    }
    js_.expect('[');
    bool first = true;
    while (js_.more(']', first)) {
      auto& d = a.shapes.input_dims.emplace_back();
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
        d.push_back(integer());
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
        f_.args.set_nccl().collective = tmp_;
      else if (key_ == "dtype"sv && f_.args.nccl.dtype.empty())
        f_.args.set_nccl().dtype = tmp_;
      else if (key_ == "algorithm"sv)
        f_.args.set_nccl().algorithm = tmp_;
      else if (key_ == "protocol"sv)
        f_.args.set_nccl().protocol = tmp_;
    }
  }

  void parse_args() {
    js_.expect('{');
    bool first = true;
    // k may point into the chunk: it is only compared before the value is read.
    for (std::string_view k; js_.member(first, k, key_);) {
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
          f_.args.set_nccl().collective = string_or_raw();
          continue;
        case ArgKey::kDtype:
          f_.args.set_nccl().dtype = string_or_raw();
          continue;
        case ArgKey::kInNelems:
          f_.args.has_nccl = true;
          f_.args.set_nccl().in_nelems = int_or_string();
          continue;
        case ArgKey::kOutNelems:
          f_.args.set_nccl().out_nelems = int_or_string();
          continue;
        case ArgKey::kGroupSize:
          f_.args.set_nccl().group_size = static_cast<int>(int_or_string());
          continue;
        case ArgKey::kNccl:
          if (js_.peek() == '{') {
            nccl_object();
            continue;
          }
          break;
        case ArgKey::kGroupRanks:
          f_.args.set_nccl().group_ranks = string_or_raw();
          continue;
        case ArgKey::kInputDims:
          raw(f_.args.dims_raw);
          continue;
        case ArgKey::kInputType:
          raw(f_.args.types_raw);
          continue;
        case ArgKey::kConcreteInputs:
          raw(f_.args.concrete_raw);
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

  void raw(RawValue& v) {
    js_.peek();
    v.at = js_.offset();
    js_.skip_value();
    v.text = js_.text(v.at, js_.offset());
  }

  // The op's shapes in the run's table. Ops repeat the same shape text every layer and step:
  // text seen before in this run gives its id at once; new text is read (strictly, as any read
  // field) and interned by content.
  ShapeId shape_id() {
    Args& a = f_.args;
    if (a.dims_raw.text.empty() && a.types_raw.text.empty() && a.concrete_raw.text.empty())
      return 0;
    const std::uint64_t h = text_hash(a.dims_raw.text) ^
                            std::rotl(text_hash(a.types_raw.text), 21) ^
                            std::rotl(text_hash(a.concrete_raw.text), 42);
    bool fresh = false;
    const std::uint32_t row = seen_index_.find_or_add(
        h,
        [&](std::uint32_t r) {
          const SeenShape& e = seen_[r];
          return e.dims == a.dims_raw.text && e.types == a.types_raw.text &&
                 e.concrete == a.concrete_raw.text;
        },
        [&] {
          seen_.push_back({a.dims_raw.text, a.types_raw.text, a.concrete_raw.text, 0});
          fresh = true;
        });
    if (!fresh) return seen_[row].id;
    const std::uint64_t back = js_.offset();
    a.shapes = OpShapes{};  // the last new shapes were moved into the table
    if (!a.dims_raw.text.empty()) {
      js_.seek(a.dims_raw.at);
      dims();
    }
    if (!a.types_raw.text.empty()) {
      js_.seek(a.types_raw.at);
      strings(a.shapes.input_types);
    }
    if (!a.concrete_raw.text.empty()) {
      js_.seek(a.concrete_raw.at);
      strings(a.shapes.concrete_inputs);
    }
    js_.seek(back);
    return seen_[row].id = out_.shapes.intern(std::move(a.shapes));
  }

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
    std::optional<Cat> kept;  // ph and cat read, and the event is one that is kept
    bool first = true;
    for (std::string_view key; js_.member(first, key, key_);) {
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
        (which == 0 ? f_.ph : f_.cat) = string_view_or_raw(which == 0 ? f_.ph_buf : f_.cat_buf);
        (which == 0 ? has_ph : has_cat) = true;
        // Kineto writes "ph" and "cat" first: an event that is only counted (flows, Python
        // functions, instant events: most of the bytes of many traces) skips its other members.
        if (has_ph && has_cat && !kept) {
          kept = kept_category(out_, f_.ph, f_.cat);
          if (!kept) {
            js_.skip_rest();
            ++index_;
            return;
          }
        }
      } else if (which == 2) {
        f_.name = string_view_or_raw(f_.name_buf);
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
    if (!kept) kept = kept_category(out_, f_.ph, f_.cat);
    if (!kept) return;
    if (*kept == Cat::kCpuOp || *kept == Cat::kAnnotation) {
      index_ = idx;  // the event's own number in a message about its shapes
      f_.shapes = shape_id();
      index_ = idx + 1;
    }
    keep_event(out_, f_, *kept, [&](const std::string& why) {
      throw InputError(js_.path() + ": byte " + std::to_string(at) + ": event #" +
                       std::to_string(idx) + " (\"" + std::string(f_.name.substr(0, 80)) +
                       "\", cat " + std::string(f_.cat) + "): " + why);
    });
  }

  JsonStream& js_;
  RankTrace& out_;
  std::string key_, tmp_;
  EventFields f_;
  std::size_t index_ = 0;
  // Shape texts this run has read (views into it) and their ids.
  struct SeenShape {
    std::string_view dims, types, concrete;
    ShapeId id;
  };
  std::vector<SeenShape> seen_;
  HashIndex seen_index_;
};

}  // namespace

std::size_t parse_kineto_events(JsonStream& in, RankTrace& out, std::size_t first_index) {
  if (!in.in_memory()) throw std::logic_error("parse_kineto_events reads text in memory");
  EventParser p(in, out, first_index);
  p.parse_segment();
  return p.index() - first_index;
}

}  // namespace goodput::traceio
