#include "harness/core/data_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "harness/core/error.hpp"

namespace fs = std::filesystem;

namespace goodput {
namespace {

std::vector<fs::path> candidates() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("GOODPUT_DATA_DIR")) dirs.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "goodput");
  dirs.emplace_back(GOODPUT_SOURCE_DATA_DIR);
  return dirs;
}

}  // namespace

std::string data_dir() {
  for (const auto& d : candidates())
    if (fs::exists(d / "gpu_specs.json")) return d.string();
  return GOODPUT_SOURCE_DATA_DIR;
}

std::string data_path(const std::string& file) {
  std::string tried;
  for (const auto& d : candidates()) {
    if (fs::exists(d / file)) return (d / file).string();
    tried += " " + d.string();
  }
  throw InputError("data file '" + file + "' not found (looked in" + tried +
                   "; set GOODPUT_DATA_DIR)");
}

}  // namespace goodput
