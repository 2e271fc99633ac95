// LazyLibrary: the first-use loader behind the cuBLASLt and NCCL stubs.
#include "harness/core/lazy_library.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"

namespace goodput {
namespace {

TEST(LazyLibrary, MissingLibraryNamesEveryCandidateAndThrowsNoGpu) {
  LazyLibrary lib("libfoo", {"libgoodput-no-such-lib.so.9", "/nonexistent/libfoo.so.9"});
  EXPECT_FALSE(lib.available());
  EXPECT_NE(lib.error().find("libfoo could not be loaded"), std::string::npos) << lib.error();
  EXPECT_NE(lib.error().find("libgoodput-no-such-lib.so.9"), std::string::npos) << lib.error();
  EXPECT_NE(lib.error().find("/nonexistent/libfoo.so.9"), std::string::npos) << lib.error();
  try {
    lib.symbol("foo_init");
    FAIL() << "symbol() of an unloadable library returned";
  } catch (const NoGpuError& e) {
    EXPECT_EQ(e.exit_code(), kExitNoGpu);
    EXPECT_NE(std::string(e.what()).find("LD_LIBRARY_PATH"), std::string::npos) << e.what();
  }
}

TEST(LazyLibrary, LaterCandidateLoadsAndResolves) {
  // libz is a dependency of goodput itself, so it is installed wherever these tests run.
  LazyLibrary lib("zlib", {"libgoodput-no-such-lib.so.9", "libz.so.1"});
  ASSERT_TRUE(lib.available()) << lib.error();
  using Version = const char* (*)();
  const auto version = reinterpret_cast<Version>(lib.symbol("zlibVersion"));
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(std::string(version()).substr(0, 2), "1.");
}

TEST(LazyLibrary, MissingSymbolNamesTheSymbol) {
  LazyLibrary lib("zlib", {"libz.so.1"});
  try {
    lib.symbol("goodput_not_in_zlib");
    FAIL() << "symbol() of a missing function returned";
  } catch (const NoGpuError& e) {
    EXPECT_NE(std::string(e.what()).find("zlib has no goodput_not_in_zlib"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace goodput
