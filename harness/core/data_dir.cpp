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

std::string companion_library(const std::string& file, const char* env_var,
                              const std::string& build_path) {
  if (const char* env = std::getenv(env_var); env && *env) {
    if (!fs::exists(env)) throw InputError(std::string(env_var) + "=" + env + ": no such file");
    return fs::absolute(env).string();
  }
  std::vector<fs::path> paths;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back(exe.parent_path() / file);
    paths.push_back(exe.parent_path().parent_path() / "lib" / file);
  }
  if (!build_path.empty()) paths.emplace_back(build_path);
  for (const auto& p : paths)
    if (fs::exists(p, ec)) return p.string();
  return {};
}

}  // namespace goodput
