#include "profiler/trace_format/trace_files.hpp"

#include <algorithm>
#include <fstream>
#include <regex>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

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
    per_process = std::regex(quote(stem) + R"(\.(rank|pid)([0-9]+))" + quote(ext));
    dir = b.has_parent_path() ? b.parent_path() : fs::path(".");
  }

  // Whether `name` is one of the run's trace names; `rank` gets N of a <stem>.rank<N> name.
  bool matches(const std::string& name, std::optional<int>* rank = nullptr) const {
    if (name == base_name) return true;
    std::smatch m;
    if (!std::regex_match(name, m, per_process)) return false;
    if (rank && m[1] == "rank") {
      try {
        *rank = std::stoi(m[2]);
      } catch (const std::out_of_range&) {
        return false;  // not a rank trace_path_for writes
      }
    }
    return true;
  }

  // The run's regular files in the folder modified at or after `since`, sorted by name.
  template <class Visit>
  void each_recent_file(fs::file_time_type since, Visit visit) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file(ec) && e.last_write_time(ec) >= since)
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) visit(n);
  }
};

}  // namespace

std::vector<std::string> find_trace_files(const std::string& base, fs::file_time_type since) {
  const TraceNames names(base);
  std::vector<std::string> out;
  names.each_recent_file(since, [&](const std::string& n) {
    if (names.matches(n)) out.push_back((names.dir / n).string());
  });
  return out;
}

std::vector<PartialTrace> find_partial_traces(const std::string& base, fs::file_time_type since) {
  const TraceNames names(base);
  static const std::regex partial(R"((.+)\.partial\.([0-9]{1,9}))");
  std::vector<PartialTrace> out;
  names.each_recent_file(since, [&](const std::string& n) {
    std::smatch m;
    if (!std::regex_match(n, m, partial)) return;
    PartialTrace p;
    if (!names.matches(m[1], &p.rank)) return;
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
