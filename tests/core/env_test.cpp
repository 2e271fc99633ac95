#include "harness/core/env.hpp"

#include <gtest/gtest.h>

using namespace goodput;

TEST(Env, AllowListKeepsResultShapingVariables) {
  EXPECT_TRUE(env_name_allowed("CUDA_VISIBLE_DEVICES"));
  EXPECT_TRUE(env_name_allowed("NCCL_ALGO"));
  EXPECT_TRUE(env_name_allowed("CUBLAS_WORKSPACE_CONFIG"));
  EXPECT_TRUE(env_name_allowed("CUBLASLT_LOG_LEVEL"));
  EXPECT_FALSE(env_name_allowed("HOME"));
  EXPECT_FALSE(env_name_allowed("PATH"));
  EXPECT_FALSE(env_name_allowed("HF_TOKEN"));
  EXPECT_FALSE(env_name_allowed("AWS_SECRET_ACCESS_KEY"));
}

TEST(Env, FilterDropsEverythingElse) {
  const auto out = filter_environment({{"HOME", "/root"},
                                       {"NCCL_DEBUG", "INFO"},
                                       {"CUDA_VISIBLE_DEVICES", "0,1"},
                                       {"HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz"}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.at("NCCL_DEBUG"), "INFO");
  EXPECT_EQ(out.at("CUDA_VISIBLE_DEVICES"), "0,1");
}

TEST(Env, CredentialLookingValuesAreRedacted) {
  const auto out = filter_environment({
      {"NCCL_IB_HCA", "mlx5_0,mlx5_1"},
      {"NCCL_SOCKET_IFNAME", "eth0"},
      {"NCCL_AUTH_TOKEN", "whatever"},                                       // secret-looking name
      {"NCCL_COMM_ID", "ghp_0123456789abcdefghijABCDEFGHIJ"},                // GitHub token shape
      {"GOODPUT_NOTE", "https://user:hunter2@example.invalid/x"},            // URL with password
      {"CUBLAS_X", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"},                  // long opaque key
      {"CUDA_VISIBLE_DEVICES", "GPU-5e1d3a6f-2c7b-4e0d-9a8b-1f2e3d4c5b6a"},  // a UUID is fine
  });
  EXPECT_EQ(out.at("NCCL_IB_HCA"), "mlx5_0,mlx5_1");
  EXPECT_EQ(out.at("NCCL_SOCKET_IFNAME"), "eth0");
  EXPECT_EQ(out.at("NCCL_AUTH_TOKEN"), kRedacted);
  EXPECT_EQ(out.at("NCCL_COMM_ID"), kRedacted);
  EXPECT_EQ(out.at("GOODPUT_NOTE"), kRedacted);
  EXPECT_EQ(out.at("CUBLAS_X"), kRedacted);
  EXPECT_EQ(out.at("CUDA_VISIBLE_DEVICES"), "GPU-5e1d3a6f-2c7b-4e0d-9a8b-1f2e3d4c5b6a");
}

TEST(Env, RecordedEnvironmentHonoursTheFilter) {
  setenv("NCCL_GOODPUT_TEST", "1", 1);
  setenv("GOODPUT_TEST_SECRET_TOKEN", "x", 1);
  setenv("SOME_PRIVATE_THING", "y", 1);
  const auto env = recorded_environment();
  EXPECT_EQ(env.at("NCCL_GOODPUT_TEST"), "1");
  EXPECT_EQ(env.at("GOODPUT_TEST_SECRET_TOKEN"), kRedacted);
  EXPECT_EQ(env.count("SOME_PRIVATE_THING"), 0u);
  EXPECT_EQ(env.count("PATH"), 0u);
}
