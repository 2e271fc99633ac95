// Where run-time data (GPU specs, schema) is found: $GOODPUT_DATA_DIR, then the installed share
// folder next to the binary, then the source tree the binary was built from.
#pragma once
#include <string>

namespace goodput {
std::string data_dir();
std::string data_path(const std::string& file);  // InputError when no candidate has the file
}  // namespace goodput
