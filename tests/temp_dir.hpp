// A temporary folder for one test process, removed with everything in it when the process exits.
#pragma once
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace goodput::testing {

// <temp>/<prefix><pid>, created on first use. One folder per prefix and process: a process
// that forks keeps it to the parent (a child leaves by _exit, which runs no destructors).
template <const char* Prefix>
const std::filesystem::path& process_temp_dir() {
  static const struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / (Prefix + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

}  // namespace goodput::testing
