// Loading the MPI bootstrap module: what goodput says when it is missing or is not the module.
// (The module itself runs under mpirun in mpi_test.cpp.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "collectives/bootstrap.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

// Sets GOODPUT_MPI_LIB for one test.
class MpiLibEnv {
 public:
  explicit MpiLibEnv(const char* value) { setenv("GOODPUT_MPI_LIB", value, 1); }
  ~MpiLibEnv() { unsetenv("GOODPUT_MPI_LIB"); }
};

TEST(MpiBootstrapModule, MissingFileIsAnInputError) {
  MpiLibEnv env("/nonexistent/libgoodput_mpi.so");
  try {
    make_mpi_bootstrap();
    FAIL() << "a missing module loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("GOODPUT_MPI_LIB=/nonexistent/libgoodput_mpi.so"),
              std::string::npos)
        << e.what();
  }
}

TEST(MpiBootstrapModule, ALibraryWithoutTheEntryPointIsARuntimeFailure) {
  const char* libz = "/lib/x86_64-linux-gnu/libz.so.1";
  if (!std::filesystem::exists(libz)) GTEST_SKIP() << libz << " not found";
  MpiLibEnv env(libz);
  try {
    make_mpi_bootstrap();
    FAIL() << "libz loaded as the MPI bootstrap";
  } catch (const RuntimeFailure& e) {
    EXPECT_NE(std::string(e.what()).find("lacks goodput_mpi_bootstrap_create"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace goodput::collectives
