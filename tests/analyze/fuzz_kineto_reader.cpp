// libFuzzer target for the trace reader: any bytes (plain or gzip) must either read or raise
// InputError; never crash, hang or leak. Built with clang only (tests/analyze/CMakeLists.txt).
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "harness/core/error.hpp"
#include "profiler/trace/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One file per fuzzing process, removed when it exits.
  static const struct Path {
    std::string path = "/tmp/goodput_fuzz_trace_" + std::to_string(::getpid()) + ".json";
    ~Path() { std::remove(path.c_str()); }
  } file;
  const std::string& path = file.path;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const auto t = goodput::traceio::read_trace(path);
    (void)t;
  } catch (const goodput::InputError&) {
  }
  return 0;
}

#ifndef GOODPUT_LIBFUZZER
// Without libFuzzer: replay the given files (the seed corpus) and truncations of each.
#include <fstream>
#include <iterator>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    for (std::size_t n = 0; n <= bytes.size(); n += 1 + bytes.size() / 64)
      LLVMFuzzerTestOneInput(p, n);
    LLVMFuzzerTestOneInput(p, bytes.size());
  }
  return 0;
}
#endif
