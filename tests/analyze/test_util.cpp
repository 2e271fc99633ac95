#include "tests/analyze/test_util.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <unistd.h>
#include <zlib.h>

namespace goodput::testing {

std::string traces_dir() {
  const std::string d = GOODPUT_TRACES_DIR;
  return std::filesystem::is_directory(d) ? d : "";
}

std::string shared_trace(const std::string& name) {
  const std::string d = traces_dir();
  if (d.empty()) return "";
  const std::string p = d + "/" + name;
  return std::filesystem::exists(p) ? p : "";
}

std::string write_temp(const std::string& text, bool gz, const std::string& suffix) {
  static std::atomic<int> n{0};
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("goodput_analyze_test_" + std::to_string(::getpid()) + "_" +
                             std::to_string(n++) + suffix + (gz ? ".gz" : "")))
                               .string();
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + path);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
  } else {
    std::ofstream(path) << text;
  }
  return path;
}

}  // namespace goodput::testing

namespace goodput::testing {

std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  char c;
  while (in.get(c)) {
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          field += '"';
          in.get(c);
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    std::map<std::string, std::string> m;
    for (std::size_t j = 0; j < rows[0].size() && j < rows[i].size(); ++j)
      m[rows[0][j]] = rows[i][j];
    out.push_back(m);
  }
  return out;
}

}  // namespace goodput::testing
