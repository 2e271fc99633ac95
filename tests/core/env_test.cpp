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

// One command line redaction for every argv recorded (results' meta.argv, traces): key=value and
// "--flag value" forms whose name says credential, URL passwords, and token-shaped values.
TEST(Env, ArgvCredentialsAreRedacted) {
  const auto out = redact_argv({"env",
                                "HF_TOKEN=abc",
                                "prog",
                                "--api-key=X",
                                "--api-key",
                                "X",
                                "--access-key",
                                "X",
                                "--token",
                                "X",
                                "--secret",
                                "X",
                                "--auth",
                                "X",
                                "--password=pw9",
                                "--db-passwd",
                                "pw",
                                "--clientSecret=s",
                                "trainer.api_key=k",
                                "--aws_secret_access_key",
                                "k",
                                "--credentials-json",
                                "c"});
  EXPECT_EQ(out, (std::vector<std::string>{"env",
                                           "HF_TOKEN=<redacted>",
                                           "prog",
                                           "--api-key=<redacted>",
                                           "--api-key",
                                           "<redacted>",
                                           "--access-key",
                                           "<redacted>",
                                           "--token",
                                           "<redacted>",
                                           "--secret",
                                           "<redacted>",
                                           "--auth",
                                           "<redacted>",
                                           "--password=<redacted>",
                                           "--db-passwd",
                                           "<redacted>",
                                           "--clientSecret=<redacted>",
                                           "trainer.api_key=<redacted>",
                                           "--aws_secret_access_key",
                                           "<redacted>",
                                           "--credentials-json",
                                           "<redacted>"}));
}

TEST(Env, ArgvUrlPasswordsAndTokenShapesAreRedacted) {
  const auto out = redact_argv({"psql", "postgres://u:pw10@host/db", "--db=mysql://a:b@h:3306/x",
                                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                                "--header=sk-abcdefghijklmnopqrstu", "https://host/path"});
  EXPECT_EQ(out, (std::vector<std::string>{"psql", "postgres://u:<redacted>@host/db",
                                           "--db=mysql://a:<redacted>@h:3306/x", "<redacted>",
                                           "--header=<redacted>", "https://host/path"}));
}

// Settings whose names only look alike keep their values; a flag after a credential-named
// switch is not taken for its value.
TEST(Env, ArgvOrdinaryFlagsAreKept) {
  const std::vector<std::string> argv = {"train.py",
                                         "--max-tokens",
                                         "5",
                                         "--tokens-per-step",
                                         "4096",
                                         "--author",
                                         "ada",
                                         "--pad-token-id",
                                         "0",
                                         "--token-budget",
                                         "7",
                                         "--num_tokens=9",
                                         "--use-auth-token",
                                         "--lr",
                                         "3e-4",
                                         "--tokenizer",
                                         "gpt2",
                                         "MAX_TOKENS=3",
                                         "--session",
                                         "s1",
                                         "out/path"};
  EXPECT_EQ(redact_argv(argv), argv);
}
