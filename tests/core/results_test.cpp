#include "harness/core/results.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/core/error.hpp"
#include "tests/temp_dir.hpp"

using namespace goodput;
namespace fs = std::filesystem;

namespace {
constexpr char kResultsTestDir[] = "goodput_test_";
fs::path temp_file(const std::string& name) {
  return goodput::testing::process_temp_dir<kResultsTestDir>() / name;
}
}  // namespace

TEST(Results, EveryUpdateIsOnDisk) {
  const auto path = temp_file("r.json");
  ResultsWriter w(path.string(), "calibrate", {"goodput", "calibrate"});
  auto doc = read_json_file(path.string());
  EXPECT_EQ(doc["schema"], kResultsSchema);
  EXPECT_EQ(doc["schema_version"], kResultsSchemaVersion);
  EXPECT_EQ(doc["meta"]["status"], "running");
  EXPECT_EQ(doc["meta"]["command"], "calibrate");
  w.add_result({{"name", "a"}});
  w.add_result({{"name", "b"}});
  doc = read_json_file(path.string());  // an interrupted run keeps what finished
  EXPECT_EQ(doc["results"].size(), 2u);
  w.finish("interrupted");
  doc = read_json_file(path.string());
  EXPECT_EQ(doc["meta"]["status"], "interrupted");
  EXPECT_TRUE(doc["meta"]["end_time"].is_string());
  EXPECT_FALSE(fs::exists(path.string() + ".tmp." + std::to_string(getpid())));
}

TEST(Results, MetaHasProvenance) {
  const auto meta = make_meta("devices", {"goodput", "devices"});
  for (const char* k :
       {"tool_version", "git_sha", "git_dirty", "argv", "start_time", "host", "environment"})
    EXPECT_TRUE(meta.contains(k)) << k;
  EXPECT_TRUE(meta["host"]["hostname"].is_string());
}

TEST(Results, NonFiniteNumbersBecomeNull) {
  const auto path = temp_file("nan.json");
  write_json_atomic(path.string(), {{"x", std::nan("")}});
  EXPECT_TRUE(read_json_file(path.string())["x"].is_null());
}

TEST(Results, MalformedJsonNamesFileAndPosition) {
  const auto path = temp_file("bad.json");
  std::ofstream(path) << "{\"a\": [1, 2,, 3]}";
  try {
    read_json_file(path.string());
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos);
    EXPECT_NE(msg.find("byte 13"), std::string::npos) << msg;
  }
  EXPECT_THROW(read_json_file("/nonexistent.json"), InputError);
}

TEST(Results, StatsSerialize) {
  const auto j = to_json(summarize({1, 2, 3}));
  EXPECT_EQ(j["n"], 3);
  EXPECT_DOUBLE_EQ(j["median"].get<double>(), 2);
}

// The results' argv goes through the same redaction as traces' command lines.
TEST(Results, MetaArgvIsRedacted) {
  const auto meta = make_meta("profile", {"goodput", "profile", "--", "prog", "--password=pw9",
                                          "postgres://u:pw10@host/db", "--max-tokens", "5"});
  EXPECT_EQ(meta["argv"],
            nlohmann::json({"goodput", "profile", "--", "prog", "--password=<redacted>",
                            "postgres://u:<redacted>@host/db", "--max-tokens", "5"}));
}
