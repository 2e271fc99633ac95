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
