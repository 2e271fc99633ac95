#include "profiler/trace_format/salvage.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "harness/core/error.hpp"
#include "profiler/trace_format/trace_meta.hpp"
#include "profiler/trace_format/trace_writer.hpp"

namespace goodput::trace {
namespace {

// The tail is read from its last 64 KiB, doubled until it holds a complete record; a tail longer
// than the cap without one is not something the writer left.
constexpr std::size_t kFirstTailBytes = 64u << 10;
constexpr std::size_t kMaxTailBytes = 256u << 20;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string io_error(const std::string& path, const char* what) {
  return path + ": " + what + " (" + std::strerror(errno) + ")";
}

// A record line as the writer leaves it: one JSON object, then ',' unless it is the last. Any
// proper prefix of a one-line JSON object fails to parse, so a record cut anywhere (inside a
// string, an escape, a number, a UTF-8 sequence) is never taken for a complete one.
std::optional<nlohmann::json> parse_record(std::string_view line) {
  if (!line.empty() && line.back() == ',') line.remove_suffix(1);
  if (line.empty() || line.front() != '{') return std::nullopt;
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// Where the complete records end, found from the tail alone.
struct Cut {
  bool header = false;            // the file starts with the writer's header line
  std::uint64_t header_size = 0;  // its bytes
  std::uint64_t events_end = 0;   // just past the last complete record's '}'
  std::uint64_t lines_dropped = 0;
  bool trailer = false;       // a "]" line: the writer had begun its trailer
  nlohmann::json last_event;  // the last complete record; null when none
};

void read_at(std::FILE* f, std::uint64_t offset, std::string& buf, const std::string& path) {
  if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0 ||
      std::fread(buf.data(), 1, buf.size(), f) != buf.size())
    throw RuntimeFailure(io_error(path, "read failed"));
}

Cut find_cut(std::FILE* f, std::uint64_t size, const std::string& path, SalvageResult& r) {
  Cut cut;
  // The first line is at most 100 bytes (trace_header, with a 64-byte run id).
  std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(size, 256)), '\0');
  read_at(f, 0, buf, path);
  const TraceHeader first = parse_trace_header(buf);
  if (first.state == TraceHeader::State::kNone)
    throw InputError(path +
                     ": not a partial trace (its first line is neither {\"traceEvents\": [ nor "
                     "{\"goodputRun\": \"<id>\", \"traceEvents\": [)");
  if (first.state == TraceHeader::State::kCut) {
    cut.lines_dropped = buf.empty() ? 0 : 1;  // the header itself was cut
    return cut;
  }
  const std::uint64_t header_size = first.length;
  cut.header_size = header_size;
  cut.header = true;
  for (std::size_t window = kFirstTailBytes;; window *= 2) {
    const std::uint64_t start =
        std::max<std::uint64_t>(size > window ? size - window : 0, header_size);
    buf.resize(static_cast<std::size_t>(size - start));
    read_at(f, start, buf, path);
    r.max_buffer_bytes = std::max(r.max_buffer_bytes, buf.size());
    cut.events_end = header_size;
    cut.lines_dropped = 0;
    std::size_t pos = 0;  // the header ends a line: a window starting there starts one
    if (start > header_size) {
      const auto nl = buf.find('\n');  // the first line may begin before the window
      pos = nl == std::string::npos ? buf.size() : nl + 1;
    }
    // Lines from the first that is not a complete record on are dropped: only the end of a file
    // written by one appending writer can be damaged.
    bool found = false, stopped = false;
    while (pos < buf.size()) {
      const std::size_t end = std::min(buf.find('\n', pos), buf.size());
      const std::string_view line(buf.data() + pos, end - pos);
      if (!stopped) {
        if (line == "]" || line == "],") {
          cut.trailer = stopped = true;
        } else if (auto record = parse_record(line)) {
          found = true;
          cut.events_end = start + pos + line.size() - (line.back() == ',' ? 1 : 0);
          cut.last_event = std::move(*record);
        } else {
          stopped = true;
        }
      }
      if (stopped && !line.empty()) ++cut.lines_dropped;
      pos = end + 1;
    }
    if (found || start == header_size) return cut;
    if (window >= kMaxTailBytes)
      throw RuntimeFailure(path + ": no complete event in its last " +
                           std::to_string(kMaxTailBytes >> 20) + " MiB");
    cut.trailer = false;
  }
}

// Copies bytes [0, end) in chunks and counts the line ends in [from, end).
std::uint64_t copy_counting_lines(std::FILE* in, std::FILE* out, std::uint64_t from,
                                  std::uint64_t end, const std::string& path, std::size_t chunk,
                                  SalvageResult& r) {
  std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(
                      std::max<std::size_t>(chunk, 1), std::max<std::uint64_t>(end, 1))),
                  '\0');
  r.max_buffer_bytes = std::max(r.max_buffer_bytes, buf.size());
  if (fseeko(in, 0, SEEK_SET) != 0) throw RuntimeFailure(io_error(path, "seek failed"));
  std::uint64_t lines = 0;
  for (std::uint64_t at = 0; at < end;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - at));
    if (std::fread(buf.data(), 1, n, in) != n) throw RuntimeFailure(io_error(path, "read failed"));
    const auto skip =
        static_cast<std::size_t>(at < from ? std::min<std::uint64_t>(n, from - at) : 0);
    lines += static_cast<std::uint64_t>(std::count(buf.data() + skip, buf.data() + n, '\n'));
    if (std::fwrite(buf.data(), 1, n, out) != n)
      throw RuntimeFailure(io_error(path + " (salvaged copy)", "write failed"));
    at += n;
    ++r.chunks_copied;
  }
  return lines;
}

struct BaseTime {
  std::uint64_t ns = 0;
  const char* source = "unknown";
};

// baseTimeNanoseconds is only in the trailer the writer never wrote. It is the whole second of
// the tracer's start, and the writer creates the partial at that moment: the file's birth second.
// Without a birth time, the last write less the last event's end bounds it from above.
BaseTime estimate_base_time(const std::string& path, const nlohmann::json& last_event) {
  constexpr std::uint64_t kSecond = 1'000'000'000;
  struct statx st {};
  if (statx(AT_FDCWD, path.c_str(), 0, STATX_BTIME | STATX_MTIME, &st) != 0) return {};
  if (st.stx_mask & STATX_BTIME)
    return {static_cast<std::uint64_t>(st.stx_btime.tv_sec) * kSecond, "file_birth_second"};
  auto number = [&](const char* k) {
    return last_event.contains(k) && last_event[k].is_number() ? last_event[k].get<double>() : 0.0;
  };
  if ((st.stx_mask & STATX_MTIME) && last_event.is_object() && last_event.contains("ts")) {
    const double mtime_ns =
        static_cast<double>(st.stx_mtime.tv_sec) * 1e9 + static_cast<double>(st.stx_mtime.tv_nsec);
    const double base = mtime_ns - (number("ts") + number("dur")) * 1000.0;
    if (base > 0)
      return {static_cast<std::uint64_t>(base) / kSecond * kSecond, "last_write_less_last_event"};
  }
  return {};
}

std::string kept_text(const SalvageResult& r) {
  if (r.partial_bytes == 0) return "the partial trace was empty (no event had reached the file)";
  if (r.header_cut) return "the file ended inside its first line: no event was kept";
  std::string s = std::to_string(r.events_kept) + " complete event" +
                  (r.events_kept == 1 ? " was" : "s were") + " kept, ";
  if (r.trailer_dropped) return s + "the unfinished trailer dropped";
  if (r.lines_dropped == 0) return s + "no record was cut";
  if (r.lines_dropped == 1) return s + "the last cut record dropped";
  return s + "the last " + std::to_string(r.lines_dropped) +
         " lines (not complete records) dropped";
}

nlohmann::json salvage_top(const PartialTrace& p, const SalvageContext& ctx, const SalvageResult& r,
                           const BaseTime& base) {
  RankInfo rank;
  if (p.rank) {
    rank.rank = p.rank;
    rank.source = "file name";
  }
  auto meta = base_meta(rank, ctx.argv);
  meta["process"] = {
      {"pid", p.pid},
      {"ppid", ctx.ppid > 0 ? nlohmann::json(ctx.ppid) : nlohmann::json()},
      {"argv", ctx.argv.empty() ? nlohmann::json() : nlohmann::json(redact_argv(ctx.argv))}};
  meta["status"] = kStatusIncomplete;
  meta["status_reason"] = r.status_reason;
  meta["salvaged_from"] = p.path;
  if (!ctx.run_id.empty()) meta["run_id"] = ctx.run_id;
  meta["salvage"] = {{"events_kept", r.events_kept},     {"lines_dropped", r.lines_dropped},
                     {"bytes_dropped", r.bytes_dropped}, {"trailer_dropped", r.trailer_dropped},
                     {"partial_bytes", r.partial_bytes}, {"base_time", base.source}};
  meta["records"] = nlohmann::json::object();  // per kind: unknown without reading every event
  if (!ctx.step_marker.empty()) meta["capture"] = {{"marker", ctx.step_marker}};
  nlohmann::json top = {{"schemaVersion", 1},
                        {"deviceProperties", nlohmann::json::array()},
                        {"goodput", std::move(meta)}};
  if (p.rank) top["distributedInfo"] = {{"rank", *p.rank}};
  return top;
}

}  // namespace

bool process_running(long pid) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (in && std::getline(in, stat)) {
    // "pid (comm) S ...": the state follows the last ')' (comm may hold parentheses).
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return true;
    const char state = stat[close + 2];
    return state != 'Z' && state != 'X';
  }
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;  // no /proc
}

SalvageResult salvage_partial(const PartialTrace& p, const SalvageContext& ctx) {
  File in(std::fopen(p.path.c_str(), "rb"));
  if (!in) throw RuntimeFailure(io_error(p.path, "cannot open"));
  struct stat st {};
  if (fstat(fileno(in.get()), &st) != 0) throw RuntimeFailure(io_error(p.path, "cannot stat"));
  SalvageResult r;
  r.path = p.final_path;
  r.partial_bytes = static_cast<std::uint64_t>(st.st_size);
  Cut cut = find_cut(in.get(), r.partial_bytes, p.path, r);
  r.lines_dropped = cut.lines_dropped;
  r.trailer_dropped = cut.trailer;
  r.header_cut = !cut.header && r.partial_bytes > 0;
  r.bytes_dropped = r.partial_bytes - cut.events_end;

  const std::string tmp = p.final_path + ".salvage." + std::to_string(getpid());
  File out(std::fopen(tmp.c_str(), "wb"));
  if (!out) throw RuntimeFailure(io_error(tmp, "cannot write the salvaged trace"));
  try {
    const std::uint64_t header_end = cut.header_size;
    if (cut.header) {
      const auto line_ends = copy_counting_lines(in.get(), out.get(), header_end, cut.events_end,
                                                 p.path, ctx.chunk_bytes, r);
      r.events_kept = cut.events_end > header_end ? line_ends + 1 : 0;
    } else {
      std::fputs(trace_header(ctx.run_id).c_str(), out.get());
    }
    r.status_reason = ctx.cause + " before the tracer finished its trace; " + kept_text(r);
    const BaseTime base = estimate_base_time(p.path, cut.last_event);
    if (!write_trace_end(out.get(), salvage_top(p, ctx, r, base), p.final_path, base.ns))
      throw RuntimeFailure(io_error(tmp, "write failed"));
    if (std::fclose(out.release()) != 0) throw RuntimeFailure(io_error(tmp, "write failed"));
    std::error_code ec;
    std::filesystem::rename(tmp, p.final_path, ec);
    if (ec)
      throw RuntimeFailure(p.final_path + ": cannot rename the salvaged trace: " + ec.message());
  } catch (...) {
    out.reset();
    std::remove(tmp.c_str());
    throw;
  }
  std::remove(p.path.c_str());
  return r;
}

}  // namespace goodput::trace
