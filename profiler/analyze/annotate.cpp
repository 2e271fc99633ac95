#include "profiler/analyze/annotate.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <zlib.h>

#include "harness/core/error.hpp"

namespace goodput::analyze {
namespace {

using nlohmann::json;

// Track ids inside a rank's process. GPU streams follow from kStreamBase.
constexpr int kStepsTid = 0, kIdleTid = 1, kOverheadTid = 2;
constexpr std::int64_t kStreamBase = 10;

// Nanoseconds as exact decimal microseconds: doubles lose the last digits of epoch-based times.
std::string us(std::int64_t ns) {
  const bool neg = ns < 0;
  const std::uint64_t a = neg ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : ns;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%03llu", neg ? "-" : "",
                static_cast<unsigned long long>(a / 1000),
                static_cast<unsigned long long>(a % 1000));
  return buf;
}

std::string str(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string slice(int pid, std::int64_t tid, std::int64_t ts, std::int64_t dur,
                  const std::string& name, const std::string& cat, const json& args) {
  return "{\"ph\":\"X\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
         ",\"ts\":" + us(ts) + ",\"dur\":" + us(dur) + ",\"name\":" + str(name) +
         ",\"cat\":" + str(cat) +
         ",\"args\":" + args.dump(-1, ' ', false, json::error_handler_t::replace) + "}";
}

std::string counter(int pid, const std::string& name, std::int64_t ts, const json& values) {
  return "{\"ph\":\"C\",\"pid\":" + std::to_string(pid) + ",\"ts\":" + us(ts) +
         ",\"name\":" + str(name) + ",\"args\":" + values.dump() + "}";
}

std::string meta(int pid, std::int64_t tid, const char* what, const std::string& name) {
  std::string s = "{\"ph\":\"M\",\"pid\":" + std::to_string(pid);
  if (tid >= 0) s += ",\"tid\":" + std::to_string(tid);
  return s + ",\"name\":\"" + what + "\",\"args\":{\"name\":" + str(name) + "}}";
}

std::string sort_index(int pid, std::int64_t tid, int index) {
  return "{\"ph\":\"M\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
         ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":" + std::to_string(index) + "}}";
}

// Counter values of one step: MFU against each peak, executed MFU, TFLOP/s, breakdown.
json mfu_values(const json& js) {
  json v = json::object();
  if (js.contains("mfu"))
    for (const auto& [src, x] : js["mfu"].items())
      if (x.is_number()) v["model vs " + src] = 100 * x.get<double>();
  if (js.contains("executed_mfu") && js["executed_mfu"].is_number())
    v["executed"] = 100 * js["executed_mfu"].get<double>();
  return v;
}

json tflops_values(const json& js, double window_s) {
  json v = json::object();
  if (window_s <= 0) return v;
  if (js.contains("model_flops")) v["model"] = js["model_flops"].get<double>() / window_s / 1e12;
  const double ex = js.value("executed_flops", 0.0);
  if (ex > 0) v["executed"] = ex / window_s / 1e12;
  return v;
}

json zeros_like(const json& v) {
  json z = json::object();
  for (const auto& [k, x] : v.items()) z[k] = 0;
  return z;
}

}  // namespace

AnnotatedTraceWriter::AnnotatedTraceWriter(const std::string& path)
    : path_(path), tmp_(path + ".partial." + std::to_string(::getpid())) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    // Level 3: zlib's fast path, twice the speed of its default at a few percent more bytes.
    gz_ = gzopen(tmp_.c_str(), "wb3");
    if (!gz_) throw InputError(path + ": cannot write (" + std::strerror(errno) + ")");
  } else {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (!file_) throw InputError(path + ": cannot write (" + std::strerror(errno) + ")");
  }
  write("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
}

AnnotatedTraceWriter::~AnnotatedTraceWriter() {
  if (finished_) return;
  if (gz_) gzclose(static_cast<gzFile>(gz_));
  if (file_) std::fclose(file_);
  std::remove(tmp_.c_str());  // an unfinished file is never left under the final name
}

void AnnotatedTraceWriter::write(std::string_view s) {
  buf_.append(s);
  if (buf_.size() >= (1u << 20)) flush();
}

void AnnotatedTraceWriter::flush() {
  const bool ok =
      buf_.empty() ||
      (gz_ ? gzwrite(static_cast<gzFile>(gz_), buf_.data(), static_cast<unsigned>(buf_.size())) ==
                 static_cast<int>(buf_.size())
           : std::fwrite(buf_.data(), 1, buf_.size(), file_) == buf_.size());
  buf_.clear();
  if (!ok) throw RuntimeFailure(path_ + ": write failed (disk full?)");
}

void AnnotatedTraceWriter::event(std::string_view e) {
  if (events_++) write(",\n");
  write(e);
}

void AnnotatedTraceWriter::add_rank(const traceio::RankTrace& t,
                                    const std::vector<KernelClass>& class_of,
                                    const StepAnalysis& sa, const json& steps_json) {
  const int pid = t.rank();
  std::string gpu = t.devices.empty() ? "" : " " + t.devices.front().name;
  event(meta(pid, -1, "process_name", "rank " + std::to_string(pid) + gpu + " (goodput)"));
  event(meta(pid, kStepsTid, "thread_name", "steps (GPU window)"));
  event(sort_index(pid, kStepsTid, 0));
  event(meta(pid, kIdleTid, "thread_name", "GPU idle"));
  event(sort_index(pid, kIdleTid, 1));

  // Steps and their counters.
  for (std::size_t i = 0; i < sa.steps.size(); ++i) {
    const StepBreakdown& s = sa.steps[i];
    const json js = i < steps_json.size() ? steps_json[i] : json::object();
    json args = {{"cpu_ms", js.value("cpu_ms", 0.0)},
                 {"gpu_ms", js.value("gpu_ms", 0.0)},
                 {"kernels", s.kernels}};
    if (js.contains("breakdown_pct")) args["breakdown_pct"] = js["breakdown_pct"];
    const json mfu = mfu_values(js);
    if (!mfu.empty()) args["mfu_pct"] = mfu;
    event(slice(pid, kStepsTid, s.window_start, s.window(), s.name, "step", args));
    const double window_s = static_cast<double>(s.window()) * 1e-9;
    const json tf = tflops_values(js, window_s);
    if (!mfu.empty()) event(counter(pid, "MFU %", s.window_start, mfu));
    if (!tf.empty()) event(counter(pid, "TFLOP/s", s.window_start, tf));
    if (js.contains("breakdown_pct"))
      event(counter(pid, "step breakdown %", s.window_start, js["breakdown_pct"]));
    const bool last = i + 1 == sa.steps.size() || sa.steps[i + 1].window_start > s.window_end;
    if (last) {  // close the counters where the steps stop
      if (!mfu.empty()) event(counter(pid, "MFU %", s.window_end, zeros_like(mfu)));
      if (!tf.empty()) event(counter(pid, "TFLOP/s", s.window_end, zeros_like(tf)));
      if (js.contains("breakdown_pct"))
        event(counter(pid, "step breakdown %", s.window_end, zeros_like(js["breakdown_pct"])));
    }
  }

  for (const auto& g : sa.idle_gaps) {
    if (g.host_launch > 0)
      event(slice(pid, kIdleTid, g.start, g.host_launch, "idle: waiting for host launch", "idle",
                  json::object()));
    if (g.end - g.start > g.host_launch)
      event(slice(pid, kIdleTid, g.start + g.host_launch, g.end - g.start - g.host_launch,
                  "idle: other", "idle", json::object()));
  }

  // What the profiler reported losing on the host (CUPTI overhead records).
  if (!t.overheads.empty()) {
    event(meta(pid, kOverheadTid, "thread_name", "profiler overhead (host)"));
    event(sort_index(pid, kOverheadTid, 2));
    for (const auto& o : t.overheads)
      event(slice(pid, kOverheadTid, o.ts, o.dur, t.names[o.name], "profiler_overhead",
                  {{"tid", o.tid}}));
  }

  // GPU work, one track per stream, categorised by kernel class. The bulk of the file: written
  // without a JSON object per event, each name escaped once.
  std::set<std::int64_t> streams;
  std::vector<std::string> quoted(t.names.size());  // by NameId: ",\"name\":...,\"cat\":..."
  std::string e;
  for (const auto& g : t.gpu) {
    const std::int64_t tid = kStreamBase + std::max(g.stream, 0);
    if (streams.insert(tid).second) {
      event(meta(pid, tid, "thread_name", "stream " + std::to_string(g.stream)));
      event(sort_index(pid, tid, static_cast<int>(tid)));
    }
    std::string& nc = quoted[g.name];
    if (nc.empty())
      nc = ",\"name\":" + str(t.names[g.name]) + ",\"cat\":" + str(to_string(class_of[g.name]));
    e.assign("{\"ph\":\"X\",\"pid\":");
    e += std::to_string(pid);
    e += ",\"tid\":";
    e += std::to_string(tid);
    e += ",\"ts\":";
    e += us(g.ts);
    e += ",\"dur\":";
    e += us(g.dur);
    e += nc;
    e += ",\"args\":{";
    const char* sep = "";
    auto field = [&](const char* key, std::int64_t v) {
      e += sep;
      e += key;
      e += std::to_string(v);
      sep = ",";
    };
    if (g.correlation >= 0) field("\"correlation\":", g.correlation);
    if (g.external_id >= 0) field("\"External id\":", g.external_id);
    if (g.kind == traceio::GpuKind::kKernel) {
      for (const auto& [key, v] :
           {std::pair{"\"grid\":[", &g.grid}, std::pair{"\"block\":[", &g.block}}) {
        e += sep;
        e += key;
        e +=
            std::to_string((*v)[0]) + "," + std::to_string((*v)[1]) + "," + std::to_string((*v)[2]);
        e += "]";
        sep = ",";
      }
    }
    if (g.bytes >= 0) field("\"bytes\":", g.bytes);
    e += "}}";
    event(e);
  }
}

void AnnotatedTraceWriter::finish(const json& metadata) {
  write("\n],\"goodput\":" + metadata.dump(-1, ' ', false, json::error_handler_t::replace) + "}\n");
  flush();
  const bool ok = gz_ ? gzclose(static_cast<gzFile>(gz_)) == Z_OK : std::fclose(file_) == 0;
  gz_ = nullptr;
  file_ = nullptr;
  if (!ok) throw RuntimeFailure(path_ + ": write failed (disk full?)");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw RuntimeFailure(path_ + ": cannot rename from " + tmp_ + " (" + std::strerror(errno) +
                         ")");
  finished_ = true;
}

}  // namespace goodput::analyze
