// A shared library opened on first use. cuBLASLt and NCCL serve only the subcommands that run
// GPU work, so goodput does not link them: every other subcommand starts without mapping them
// (cuBLASLt alone adds ~75 ms to each process start) and runs where they are not installed.
// Stubs with the libraries' own C signatures forward each call through symbol().
#pragma once
#include <mutex>
#include <string>
#include <vector>

namespace goodput {

class LazyLibrary {
 public:
  // `label` names the library in messages ("cuBLASLt"); `candidates` are tried in order: a
  // soname first, so that LD_LIBRARY_PATH and the loader's cache decide, then absolute paths.
  LazyLibrary(std::string label, std::vector<std::string> candidates);
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // Opens the library if no call has yet; false when no candidate loads.
  bool available();
  // Why available() is false: every candidate tried and the loader's message.
  const std::string& error();
  // The address of `name`. NoGpuError naming the library (and why) when it cannot be loaded
  // or lacks the symbol.
  void* symbol(const char* name);

 private:
  void open();

  std::string label_;
  std::vector<std::string> candidates_;
  std::once_flag opened_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace goodput
