// The cuBLASLt and NCCL stubs: with the libraries installed (CUDA builds), calls through the
// stubs reach the real libraries, which answer their version without a GPU or driver.
#include <cublasLt.h>
#include <gtest/gtest.h>
#include <nccl.h>

#include "harness/gpu/libraries.hpp"

namespace goodput::gpu {
namespace {

TEST(GpuLibraries, CublasLtThroughTheStub) {
  ASSERT_TRUE(cublaslt_library().available()) << cublaslt_library().error();
  // Same major version as the headers this binary was built against.
  EXPECT_EQ(cublasLtGetVersion() / 10000, static_cast<std::size_t>(CUBLAS_VER_MAJOR));
  EXPECT_STREQ(cublasLtGetStatusName(CUBLAS_STATUS_NOT_INITIALIZED),
               "CUBLAS_STATUS_NOT_INITIALIZED");
}

TEST(GpuLibraries, NcclThroughTheStub) {
  ASSERT_TRUE(nccl_library().available()) << nccl_library().error();
  int version = 0;
  ASSERT_EQ(ncclGetVersion(&version), ncclSuccess);
  EXPECT_EQ(version / 10000, NCCL_MAJOR);
  EXPECT_NE(std::string(ncclGetErrorString(ncclInvalidArgument)), "");
}

}  // namespace
}  // namespace goodput::gpu
