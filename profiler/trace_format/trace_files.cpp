#include "profiler/trace_format/trace_files.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/trace_format/trace_writer.hpp"

namespace goodput::trace {
namespace {

namespace fs = std::filesystem;

// The names trace_path_for gives the processes of one run: the base itself, and
// <stem>.rank<N><ext> / <stem>.pid<N><ext> (ext ".json" when the base has it).
struct TraceNames {
  fs::path dir;
  std::string base_name;
  std::regex per_process;

  explicit TraceNames(const std::string& base) {
    const fs::path b(base);
    base_name = b.filename().string();
    std::string stem = base_name;
    std::string ext;
    if (b.extension() == ".json") {
      stem = b.stem().string();
      ext = ".json";
    }
    auto quote = [](const std::string& s) {
      return std::regex_replace(s, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
    };
    per_process =
        std::regex(quote(stem) + R"(\.(rank([0-9]+)(\.pid[0-9]+)?|pid[0-9]+))" + quote(ext));
    dir = b.has_parent_path() ? b.parent_path() : fs::path(".");
  }

  // Whether `name` is one of the run's trace names; `rank` gets N of a <stem>.rank<N> name.
  bool matches(const std::string& name, std::optional<int>* rank = nullptr) const {
    if (name == base_name) return true;
    std::smatch m;
    if (!std::regex_match(name, m, per_process)) return false;
    if (rank && m[2].matched) {
      try {
        *rank = std::stoi(m[2]);
      } catch (const std::out_of_range&) {
        return false;  // not a rank trace_path_for writes
      }
    }
    return true;
  }

  // The regular files of `run` in the folder whose names `keep` accepts, sorted by name.
  template <class Keep, class Visit>
  void each_file_of(const ThisRun& run, Keep keep, Visit visit) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const auto name = e.path().filename().string();
      if (!e.is_regular_file(ec) || !keep(name)) continue;
      const auto id = trace_run_id(e.path().string());
      if (id ? *id == run.id : e.last_write_time(ec) >= run.since) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) visit(n);
  }
};

}  // namespace

fs::file_time_type file_time_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  const std::chrono::sys_time<std::chrono::nanoseconds> t{std::chrono::seconds(ts.tv_sec) +
                                                          std::chrono::nanoseconds(ts.tv_nsec)};
  return std::chrono::time_point_cast<fs::file_time_type::duration>(
      std::chrono::file_clock::from_sys(t));
}

std::optional<std::string> trace_run_id(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(128, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const auto h = parse_trace_header(head);
  if (h.state != TraceHeader::State::kComplete || h.run_id.empty()) return std::nullopt;
  return h.run_id;
}

std::vector<std::string> find_trace_files(const std::string& base, const ThisRun& run) {
  const TraceNames names(base);
  std::vector<std::string> out;
  names.each_file_of(
      run, [&](const std::string& n) { return names.matches(n); },
      [&](const std::string& n) { out.push_back((names.dir / n).string()); });
  return out;
}

std::vector<PartialTrace> find_partial_traces(const std::string& base, const ThisRun& run) {
  const TraceNames names(base);
  static const std::regex partial(R"((.+)\.partial\.([0-9]{1,9}))");
  auto split = [&](const std::string& n, std::smatch& m) {
    return std::regex_match(n, m, partial) && names.matches(m[1]);
  };
  std::vector<PartialTrace> out;
  auto keep = [&](const std::string& n) {
    std::smatch m;
    return split(n, m);
  };
  names.each_file_of(run, keep, [&](const std::string& n) {
    std::smatch m;
    split(n, m);
    PartialTrace p;
    names.matches(m[1], &p.rank);
    p.path = (names.dir / n).string();
    p.final_path = (names.dir / m[1].str()).string();
    p.pid = std::stol(m[2]);
    out.push_back(std::move(p));
  });
  return out;
}

nlohmann::json read_trace_meta(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path + ": cannot open trace");
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 4 << 20);
  in.seekg(size - tail);
  std::string text(static_cast<std::size_t>(tail), '\0');
  in.read(text.data(), tail);
  const std::string key = "\n\"goodput\": ";
  const auto at = text.rfind(key);
  if (at != std::string::npos) {
    const auto start = at + key.size();
    const auto end = text.find('\n', start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty() && line.back() == ',') line.pop_back();
    try {
      return nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error&) {
      // not our writer's layout: fall back to reading the whole file
    }
  }
  const auto doc = read_json_file(path);
  if (!doc.is_object() || !doc.contains("goodput"))
    throw InputError(path + ": no \"goodput\" metadata object (not written by goodput profile)");
  return doc["goodput"];
}

}  // namespace goodput::trace
