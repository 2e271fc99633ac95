#include "profiler/trace_format/trace_files.hpp"

#include <algorithm>
#include <fstream>
#include <regex>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::trace {

std::vector<std::string> find_trace_files(const std::string& base,
                                          std::filesystem::file_time_type since) {
  namespace fs = std::filesystem;
  const fs::path b(base);
  std::string stem = b.filename().string();
  std::string ext;
  if (b.extension() == ".json") {
    stem = b.stem().string();
    ext = ".json";
  }
  auto quote = [](const std::string& s) {
    return std::regex_replace(s, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  };
  const std::regex per_process(quote(stem) + R"(\.(rank|pid)[0-9]+)" + quote(ext));
  const fs::path dir = b.has_parent_path() ? b.parent_path() : fs::path(".");
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name != b.filename().string() && !std::regex_match(name, per_process)) continue;
    if (!e.is_regular_file(ec) || e.last_write_time(ec) < since) continue;
    out.push_back((dir / name).string());
  }
  std::sort(out.begin(), out.end());
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
