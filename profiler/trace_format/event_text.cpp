#include "profiler/trace_format/event_text.hpp"

#include <charconv>
#include <cmath>

#include "profiler/trace_format/nccl_kernel.hpp"

namespace goodput::trace {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i], 0 when it is not one (overlong forms, surrogates
// and code points past U+10FFFF included).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
    cp = b & 0x1Fu;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    cp = b & 0x0Fu;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    cp = b & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_ += '{'; }
  ~Object() { out_ += '}'; }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  std::string& key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return out_;
  }
  void str(std::string_view k, std::string_view v) { append_json_string(key(k), v); }
  void num(std::string_view k, std::uint64_t v) { append_uint(key(k), v); }
  void num(std::string_view k, std::int64_t v) {
    auto& o = key(k);
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    o.append(buf, r.ptr);
  }
  void real(std::string_view k, double v) { append_double(key(k), v); }
  void triple(std::string_view k, const int (&v)[3]) {
    auto& o = key(k);
    o += '[';
    for (int i = 0; i < 3; ++i) {
      if (i) o += ',';
      char buf[16];
      const auto r = std::to_chars(buf, buf + sizeof buf, v[i]);
      o.append(buf, r.ptr);
    }
    o += ']';
  }

  static void append_uint(std::string& o, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    o.append(buf, r.ptr);
  }
  static void append_double(std::string& o, double v) {
    if (!std::isfinite(v)) {
      o += "null";  // as nlohmann writes NaN and infinity
      return;
    }
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    o += text;
    if (text.find_first_of(".e") == std::string_view::npos) o += ".0";  // stays a float
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void x_event_tail(Object& e, std::string_view cat, std::uint64_t start, std::uint64_t end,
                  std::uint64_t base_ns, std::string_view name, std::uint64_t pid,
                  std::uint64_t tid) {
  e.str("cat", cat);
  e.real("dur", end >= start ? static_cast<double>(end - start) / 1000.0 : 0.0);
  e.str("name", name);
  e.str("ph", "X");
  e.num("pid", pid);
  e.num("tid", tid);
  e.real("ts", to_us(start, base_ns));
}

double bandwidth(std::uint64_t bytes, std::uint64_t start, std::uint64_t end) {
  return end > start ? static_cast<double>(bytes) / static_cast<double>(end - start) : 0.0;
}

// The args memcpy and memset share, in key order up to "stream" (memset adds "value" after).
template <class Copy>
void copy_args(Object& args, const Copy& c) {
  args.num("bytes", c.bytes);
  args.num("context", std::uint64_t{c.context});
  args.num("correlation", std::uint64_t{c.correlation});
  args.num("device", std::uint64_t{c.device});
  args.real("memory bandwidth (GB/s)", bandwidth(c.bytes, c.start_ns, c.end_ns));
  args.num("stream", std::uint64_t{c.stream});
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_length(s, i)) {
        out.append(s.data() + i, n);
        i += n;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

bool kernel_text(std::string& out, const KernelEvent& k, std::uint64_t base_ns) {
  if (parse_nccl_kernel(k.name)) return false;
  out.clear();
  Object e(out);
  {
    auto& a = e.key("args");
    Object args(a);
    args.triple("block", k.block);
    args.num("context", std::uint64_t{k.context});
    args.num("correlation", std::uint64_t{k.correlation});
    args.num("device", std::uint64_t{k.device});
    args.num("dynamic shared memory", std::int64_t{k.dynamic_shared_memory});
    if (k.graph_id) args.num("graph id", std::uint64_t{k.graph_id});
    args.triple("grid", k.grid);
    args.num("registers per thread", std::int64_t{k.registers_per_thread});
    args.num("shared memory", std::int64_t{k.static_shared_memory} + k.dynamic_shared_memory);
    args.num("static shared memory", std::int64_t{k.static_shared_memory});
    args.num("stream", std::uint64_t{k.stream});
  }
  x_event_tail(e, "kernel", k.start_ns, k.end_ns, base_ns, k.name, k.device, k.stream);
  return true;
}

void memcpy_text(std::string& out, const MemcpyEvent& m, std::uint64_t base_ns) {
  out.clear();
  Object e(out);
  {
    Object args(e.key("args"));
    copy_args(args, m);
  }
  x_event_tail(e, "gpu_memcpy", m.start_ns, m.end_ns, base_ns,
               "Memcpy " + m.copy_kind + " (" + m.src_kind + " -> " + m.dst_kind + ")", m.device,
               m.stream);
}

void memset_text(std::string& out, const MemsetEvent& m, std::uint64_t base_ns) {
  out.clear();
  Object e(out);
  {
    Object args(e.key("args"));
    copy_args(args, m);
    args.num("value", std::uint64_t{m.value});
  }
  x_event_tail(e, "gpu_memset", m.start_ns, m.end_ns, base_ns, "Memset (" + m.memory_kind + ")",
               m.device, m.stream);
}

bool api_text(std::string& out, const ApiEvent& a, std::uint64_t base_ns) {
  const bool only_return = a.extra_args.is_object() && a.extra_args.size() == 1 &&
                           a.extra_args.contains("return value") &&
                           a.extra_args["return value"].is_number_integer();
  if (!a.extra_args.is_null() && !only_return) return false;
  out.clear();
  Object e(out);
  {
    Object args(e.key("args"));
    args.num("cbid", std::uint64_t{a.cbid});
    args.num("correlation", std::uint64_t{a.correlation});
    if (only_return) args.num("return value", a.extra_args["return value"].get<std::int64_t>());
  }
  x_event_tail(e, a.category, a.start_ns, a.end_ns, base_ns, a.name, a.pid, a.tid);
  return true;
}

void flow_text(std::string& out, bool start, std::uint32_t correlation, std::uint32_t pid,
               std::uint32_t tid, std::uint64_t t_ns, std::uint64_t base_ns) {
  out.clear();
  Object e(out);
  if (!start) e.str("bp", "e");
  e.str("cat", "ac2g");
  e.num("id", std::uint64_t{correlation});
  e.str("name", "ac2g");
  e.str("ph", start ? "s" : "f");
  e.num("pid", std::uint64_t{pid});
  e.num("tid", std::uint64_t{tid});
  e.real("ts", to_us(t_ns, base_ns));
}

}  // namespace goodput::trace
