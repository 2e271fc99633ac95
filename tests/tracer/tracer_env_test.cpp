#include "profiler/trace_format/tracer_env.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

using namespace goodput;
using namespace goodput::trace;

namespace {
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(TracerEnv, RankFromTorchrunVariables) {
  const auto r = rank_from_env(env_of({{"RANK", "3"}, {"LOCAL_RANK", "1"}, {"WORLD_SIZE", "8"}}));
  EXPECT_EQ(r.rank, 3);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.world_size, 8);
  EXPECT_EQ(r.source, "RANK");
}

TEST(TracerEnv, RankFromMpiAndSlurmInOrder) {
  auto r = rank_from_env(env_of({{"OMPI_COMM_WORLD_RANK", "5"},
                                 {"SLURM_PROCID", "9"},
                                 {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                 {"OMPI_COMM_WORLD_SIZE", "16"}}));
  EXPECT_EQ(r.rank, 5);
  EXPECT_EQ(r.source, "OMPI_COMM_WORLD_RANK");
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.world_size, 16);
  r = rank_from_env(
      env_of({{"SLURM_PROCID", "9"}, {"SLURM_LOCALID", "2"}, {"SLURM_NTASKS", "32"}}));
  EXPECT_EQ(r.rank, 9);
  EXPECT_EQ(r.source, "SLURM_PROCID");
  EXPECT_EQ(r.local_rank, 2);
}

TEST(TracerEnv, MalformedRanksAreIgnored) {
  auto r = rank_from_env(env_of({{"RANK", "abc"}, {"SLURM_PROCID", "4"}}));
  EXPECT_EQ(r.rank, 4);
  r = rank_from_env(env_of({{"RANK", "-1"}, {"LOCAL_RANK", "1x"}}));
  EXPECT_FALSE(r.rank);
  EXPECT_FALSE(r.local_rank);
  EXPECT_EQ(r.source, "");
  EXPECT_FALSE(rank_from_env(env_of({})).rank);
}

TEST(TracerEnv, TracePathNamesRankThenDirectChildThenPid) {
  RankInfo none;
  RankInfo rank2;
  rank2.rank = 2;
  EXPECT_EQ(trace_path_for("/t/step.json", rank2, 100, true), "/t/step.rank2.json");
  EXPECT_EQ(trace_path_for("/t/step.json", none, 100, true), "/t/step.json");
  EXPECT_EQ(trace_path_for("/t/step.json", none, 100, false), "/t/step.pid100.json");
  EXPECT_EQ(trace_path_for("/t/trace", rank2, 100, false), "/t/trace.rank2");
  EXPECT_EQ(trace_path_for("out.trace.json", none, 7, false), "out.trace.pid7.json");
}

TEST(TracerEnv, StepsParse) {
  const auto s = parse_steps("10:15");
  EXPECT_EQ(s.first, 10);
  EXPECT_EQ(s.last, 15);
  EXPECT_EQ(parse_steps("0:1").last, 1);
  EXPECT_THROW(parse_steps("5"), InputError);
  EXPECT_THROW(parse_steps("5:5"), InputError);
  EXPECT_THROW(parse_steps("6:5"), InputError);
  EXPECT_THROW(parse_steps("-1:5"), InputError);
  EXPECT_THROW(parse_steps("a:b"), InputError);
  EXPECT_THROW(parse_steps("1:2:3"), InputError);
  try {
    parse_steps("x:1", "--steps");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--steps 'x:1'"), std::string::npos);
  }
}

TEST(TracerEnv, ConfigFromEnvironment) {
  const auto c = tracer_config_from_env(env_of({{kEnvOutput, "/tmp/a.json"},
                                                {kEnvSteps, "2:4"},
                                                {kEnvStepMarker, "train_step"},
                                                {kEnvBufferMb, "64"},
                                                {kEnvLauncherPid, "1234"}}));
  EXPECT_EQ(c.output, "/tmp/a.json");
  ASSERT_TRUE(c.steps);
  EXPECT_EQ(c.steps->first, 2);
  EXPECT_EQ(c.step_marker, "train_step");
  EXPECT_EQ(c.buffer_cap_bytes, 64u << 20);
  EXPECT_EQ(c.launcher_pid, 1234);
  const auto d = tracer_config_from_env(env_of({}));
  EXPECT_EQ(d.output, "");
  EXPECT_FALSE(d.steps);
  EXPECT_EQ(d.step_marker, "step");
  EXPECT_THROW(tracer_config_from_env(env_of({{kEnvSteps, "9"}})), InputError);
  EXPECT_THROW(tracer_config_from_env(env_of({{kEnvBufferMb, "0"}})), InputError);
  EXPECT_THROW(tracer_config_from_env(env_of({{kEnvCounters, "cycles"}})), InputError);
  EXPECT_EQ(tracer_config_from_env(env_of({{kEnvCounters, "sass"}})).counters, "sass");
}

TEST(TracerEnv, ActivitiesChooseWhatIsRecorded) {
  const auto all = tracer_config_from_env(env_of({})).activities;
  EXPECT_TRUE(all.kernel && all.memcpy && all.memset && all.runtime && all.driver && all.sync &&
              all.overhead);
  const auto some =
      tracer_config_from_env(env_of({{kEnvActivities, "kernel,memset,driver"}})).activities;
  EXPECT_TRUE(some.kernel && some.memset && some.driver);
  EXPECT_FALSE(some.memcpy || some.runtime || some.sync || some.overhead);
  const auto none = parse_activities("none", "--activities");
  EXPECT_FALSE(none.kernel || none.runtime || none.driver);
  try {
    parse_activities("kernel,cycles", "--activities");
    FAIL() << "an unknown activity was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown activity 'cycles'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("overhead"), std::string::npos);
  }
  EXPECT_THROW(parse_activities("", "--activities"), InputError);
  EXPECT_EQ(to_json(some)["runtime"], false);
}

TEST(TracerEnv, BufferZeroingIsTheTracersUnlessAskedOtherwise) {
  EXPECT_TRUE(tracer_config_from_env(env_of({})).tracer_zeroes_buffers);
  EXPECT_TRUE(
      tracer_config_from_env(env_of({{kEnvBufferZeroing, "tracer"}})).tracer_zeroes_buffers);
  EXPECT_FALSE(
      tracer_config_from_env(env_of({{kEnvBufferZeroing, "cupti"}})).tracer_zeroes_buffers);
  try {
    tracer_config_from_env(env_of({{kEnvBufferZeroing, "yes"}}));
    FAIL() << "a bad value was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected tracer or cupti"), std::string::npos);
  }
}

// The run id goes into JSON text as is: only letters, digits, '-' and '_', at most 64.
TEST(TracerEnv, RunIdAndMissingDriver) {
  auto c = tracer_config_from_env(env_of({{kEnvRunId, "123-abcDEF_0"}}));
  EXPECT_EQ(c.run_id, "123-abcDEF_0");
  EXPECT_EQ(c.no_driver, "");
  EXPECT_EQ(tracer_config_from_env(env_of({})).run_id, "");
  for (const auto& bad : std::vector<std::string>{"a\"b", "a b", "x\n", std::string(65, 'a')})
    EXPECT_THROW(tracer_config_from_env(env_of({{kEnvRunId, bad}})), InputError) << bad;
  EXPECT_TRUE(valid_run_id(std::string(64, 'a')));
  c = tracer_config_from_env(env_of({{kEnvNoDriver, "no NVIDIA driver"}}));
  EXPECT_EQ(c.no_driver, "no NVIDIA driver");
}
