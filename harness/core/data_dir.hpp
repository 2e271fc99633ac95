// Where run-time data (GPU specs, schema) is found: $GOODPUT_DATA_DIR, then the installed share
// folder next to the binary, then the source tree the binary was built from. And where goodput's
// own shared libraries are (the tracer, the MPI bootstrap).
#pragma once
#include <string>

namespace goodput {
std::string data_dir();
std::string data_path(const std::string& file);  // InputError when no candidate has the file

// A shared library of goodput's: $env_var (InputError when it names no file), next to the
// binary, ../lib from it, or `build_path` (the build tree the binary came from; may be empty).
// Empty when none exists.
std::string companion_library(const std::string& file, const char* env_var,
                              const std::string& build_path);
}  // namespace goodput
