// Helpers for the analyze tests: temporary trace files and the shared real traces.
#pragma once
#include <string>

namespace goodput::testing {

// Folder of the real traces (../shared/traces beside the checkout); "" when absent.
std::string traces_dir();
// Full path of a shared trace; "" when the folder or file is absent.
std::string shared_trace(const std::string& name);
// Writes text to a fresh temporary file (gzip-compressed when gz) and returns its path.
std::string write_temp(const std::string& text, bool gz = false,
                       const std::string& suffix = ".json");
// A path in this test process's temporary folder (removed with it when the process exits).
std::string temp_path(const std::string& name);

// A hand-made two-step H100 trace whose breakdown the tests compute by hand (test_util.cpp).
extern const char* const kHandMade;

}  // namespace goodput::testing

#define GOODPUT_REQUIRE_TRACE(var, name)                                             \
  const std::string var = goodput::testing::shared_trace(name);                      \
  if (var.empty())                                                                   \
  GTEST_SKIP() << "real trace " << name << " not found under " << GOODPUT_TRACES_DIR \
               << " (../shared/traces beside the checkout)"

#include <map>
#include <vector>

namespace goodput::testing {
// Rows of a CSV file with a header line (quoted fields may hold commas); empty when unreadable.
std::vector<std::map<std::string, std::string>> read_csv(const std::string& path);
}  // namespace goodput::testing
