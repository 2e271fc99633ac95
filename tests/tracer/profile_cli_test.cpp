// `goodput profile` end to end on this machine: usage errors, exit codes, programs that never
// use CUDA, NVTX-only programs, ranks and signals, and programs that die before their trace is
// finished.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/tracer/test_util.hpp"

namespace fs = std::filesystem;
using goodput::test::run_process;

namespace {

fs::path temp_dir() {
  return goodput::test::temp_dir("goodput_profile_cli");
}
nlohmann::json load(const fs::path& p) {
  return goodput::test::load_json(p);
}

const std::map<std::string, std::string> kNoRank = {
    {"RANK", ""},         {"OMPI_COMM_WORLD_RANK", ""},
    {"SLURM_PROCID", ""}, {"PMI_RANK", ""},
    {"PMIX_RANK", ""},    {"GOODPUT_TRACER_LIB", GOODPUT_TRACER_LIB_PATH}};

goodput::test::ProcessResult profile(std::vector<std::string> args,
                                     std::map<std::string, std::string> env = kNoRank) {
  args.insert(args.begin(), {GOODPUT_BINARY, "profile"});
  return run_process(args, env);
}

}  // namespace

TEST(ProfileCli, UsageErrorsExit2) {
  EXPECT_EQ(profile({}).exit_code, 2);
  EXPECT_EQ(profile({"--steps", "5:2", "--", "/bin/true"}).exit_code, 2);
  EXPECT_EQ(profile({"--steps", "x", "--", "/bin/true"}).exit_code, 2);
  const auto bad_set = profile({"--counters", "cycles", "--", "/bin/true"});
  EXPECT_EQ(bad_set.exit_code, 2);
  EXPECT_NE(bad_set.err.find("the sets are flops, sass"), std::string::npos) << bad_set.err;
  EXPECT_EQ(profile({"--buffer-mb", "0", "--", "/bin/true"}).exit_code, 2);
  const auto bad_kind = profile({"--activities", "kernel,cycles", "--", "/bin/true"});
  EXPECT_EQ(bad_kind.exit_code, 2);
  EXPECT_NE(bad_kind.err.find("unknown activity 'cycles'"), std::string::npos) << bad_kind.err;
  const auto help = profile({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--step-marker"), std::string::npos);
}

TEST(ProfileCli, MissingProgramExit2) {
  const auto dir = temp_dir();
  auto r = profile({"-o", (dir / "t.json").string(), "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/program"), std::string::npos) << r.err;
  r = profile({"-o", (dir / "t.json").string(), "--", "goodput-no-such-program-here"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not found in PATH"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "t.json"));
}

TEST(ProfileCli, ProgramWithoutCudaWritesAnEmptyTraceThatSaysSo) {
  const auto dir = temp_dir();
  const auto r = profile(
      {"-o", (dir / "t.json").string(), "--json", (dir / "r.json").string(), "--", "/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no CUDA activity was seen: no process wrote a trace or a partial trace"),
            std::string::npos)
      << r.err;
  const auto trace = load(dir / "t.json");
  EXPECT_EQ(trace["goodput"]["status"], "no_cuda_activity");
  EXPECT_TRUE(trace["traceEvents"].empty());
  const auto results = load(dir / "r.json");
  EXPECT_EQ(results["schema"], "goodput.results");
  EXPECT_EQ(results["meta"]["status"], "complete");
  EXPECT_EQ(results["profile"]["exit_code"], 0);
  EXPECT_EQ(results["profile"]["traces"][0]["status"], "no_cuda_activity");
}

TEST(ProfileCli, ReturnsTheProgramsExitCode) {
  const auto dir = temp_dir();
  EXPECT_EQ(profile({"-o", (dir / "a.json").string(), "--", "/bin/sh", "-c", "exit 7"}).exit_code,
            7);
  EXPECT_EQ(profile({"-o", (dir / "b.json").string(), "--", "false"}).exit_code, 1);  // PATH lookup
}

TEST(ProfileCli, NvtxProgramStepsAndSummary) {
  const auto dir = temp_dir();
  const auto r = profile({"-o", (dir / "n.json").string(), "--steps", "1:2", "--",
                          GOODPUT_NVTX_PROGRAM, "steps", "4", "3"});
  ASSERT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("n.json: complete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 steps"), std::string::npos) << r.err;
  const auto doc = load(dir / "n.json");
  EXPECT_EQ(doc["goodput"]["capture"]["steps_seen"], 4);
  EXPECT_EQ(doc["goodput"]["steps"].size(), 1u);
  EXPECT_EQ(doc["goodput"]["activities"]["kernel"], true);  // everything by default
  // Host usage of every step, in the window or not.
  const auto& host = doc["goodput"]["steps_host"];
  ASSERT_EQ(host.size(), 4u);
  for (std::size_t i = 0; i < host.size(); ++i) {
    EXPECT_EQ(host[i]["step"], i);
    EXPECT_GE(host[i]["wall_ms"].get<double>(), 0.0);
    EXPECT_GE(host[i]["process_cpu_ms"].get<double>(), host[i]["program_cpu_ms"].get<double>());
    EXPECT_TRUE(host[i].contains("steal_ms"));
  }
}

// --activities reaches the tracer, which records what it recorded in the trace.
TEST(ProfileCli, ActivitiesChooseWhatIsRecorded) {
  const auto dir = temp_dir();
  const auto r = profile({"-o", (dir / "a.json").string(), "--activities", "kernel,memset", "--",
                          GOODPUT_NVTX_PROGRAM, "steps", "2", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = load(dir / "a.json")["goodput"]["activities"];
  EXPECT_EQ(a["kernel"], true);
  EXPECT_EQ(a["memset"], true);
  EXPECT_EQ(a["runtime"], false);
  EXPECT_EQ(a["driver"], false);
}

// GOODPUT_TRACE_ACTIVITIES in the environment stands for --activities (a flag still wins), and
// GOODPUT_TRACE_BUFFER_ZEROING reaches the tracer, whose trace says who clears the buffers.
TEST(ProfileCli, ActivitiesAndBufferZeroingFromTheEnvironment) {
  const auto dir = temp_dir();
  auto env = kNoRank;
  env["GOODPUT_TRACE_ACTIVITIES"] = "memcpy";
  env["GOODPUT_TRACE_BUFFER_ZEROING"] = "cupti";
  auto r = profile({"-o", (dir / "e.json").string(), "--", GOODPUT_NVTX_PROGRAM, "steps", "2", "0"},
                   env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = load(dir / "e.json")["goodput"];
  EXPECT_EQ(doc["activities"]["memcpy"], true);
  EXPECT_EQ(doc["activities"]["kernel"], false);
  EXPECT_EQ(doc["tracer"]["buffers"]["zeroed_by_tracer"], false);
  r = profile({"-o", (dir / "f.json").string(), "--activities", "kernel", "--",
               GOODPUT_NVTX_PROGRAM, "steps", "2", "0"},
              env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  doc = load(dir / "f.json")["goodput"];
  EXPECT_EQ(doc["activities"]["kernel"], true);
  EXPECT_EQ(doc["activities"]["memcpy"], false);
  env["GOODPUT_TRACE_ACTIVITIES"] = "kernel,cycles";
  r = profile({"-o", (dir / "g.json").string(), "--", "/bin/true"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown activity 'cycles'"), std::string::npos) << r.err;
}

// --counters reaches the tracer, and the summary says what came of it (here: no CUDA context).
TEST(ProfileCli, CountersOutcomeInTheSummary) {
  const auto dir = temp_dir();
  const auto r = profile({"-o", (dir / "c.json").string(), "--counters", "flops", "--",
                          GOODPUT_NVTX_PROGRAM, "steps", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("counters (flops): not_collected, 0 step ranges; no CUDA context"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("not implemented"), std::string::npos) << r.err;
  const auto doc = load(dir / "c.json");
  EXPECT_EQ(doc["goodput"]["counters"]["requested"], "flops");
  EXPECT_EQ(doc["goodput"]["counters"]["max_ranges"], 64);
}

TEST(ProfileCli, CustomStepMarker) {
  const auto dir = temp_dir();
  const auto r = profile({"-o", (dir / "m.json").string(), "--step-marker", "forward", "--",
                          GOODPUT_NVTX_PROGRAM, "steps", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = load(dir / "m.json");
  ASSERT_EQ(doc["goodput"]["steps"].size(), 2u);
  EXPECT_EQ(doc["goodput"]["steps"][0]["name"], "forward");
}

TEST(ProfileCli, RankFromTheEnvironmentNamesTheFile) {
  const auto dir = temp_dir();
  auto env = kNoRank;
  env["OMPI_COMM_WORLD_RANK"] = "1";
  const auto r = run_process({GOODPUT_BINARY, "profile", "-o", (dir / "r.json").string(), "--",
                              GOODPUT_NVTX_PROGRAM, "steps", "1"},
                             env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "r.rank1.json"));
  EXPECT_FALSE(fs::exists(dir / "r.json"));
}

TEST(ProfileCli, SigtermIsForwardedAndTheTraceKept) {
  const auto dir = temp_dir();
  const auto r = run_process({GOODPUT_BINARY, "profile", "-o", (dir / "s.json").string(), "--",
                              GOODPUT_NVTX_PROGRAM, "hang"},
                             kNoRank, "ready", [](pid_t goodput) { kill(goodput, SIGTERM); });
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  const auto doc = load(dir / "s.json");
  EXPECT_EQ(doc["goodput"]["status"], "interrupted");
}

namespace {

// A partial trace as a dying tracer leaves it: two complete events and one cut mid-string.
std::string partial_text() {
  return std::string("{\"traceEvents\": [\n") +
         R"({"args":{"range id":1},"cat":"user_annotation","dur":5.0,"name":"step","ph":"X","pid":1,"tid":1,"ts":1.0},)" +
         "\n" +
         R"({"args":{"range id":2},"cat":"user_annotation","dur":5.0,"name":"step \"2\"","ph":"X","pid":1,"tid":1,"ts":9.0},)" +
         "\n" + R"({"args":{"range id":3},"cat":"user_annotation","dur":5.0,"name":"ste)";
}

}  // namespace

// A program that dies of a signal before its tracer finishes: the partial it leaves (here written
// by the program itself, as the tracer would) and one of a rank process it started are salvaged
// into the traces they would have been, and no empty "no CUDA activity" trace is written.
TEST(ProfileCli, PartialTraceOfAProgramKilledBySignalIsSalvaged) {
  const auto dir = temp_dir();
  const auto src = dir / "partial.txt";
  std::ofstream(src) << partial_text();
  const auto out = dir / "t.json";
  // $0: the output; the rank process is a second shell that dies of SIGKILL.
  const std::string script = "cat '" + src.string() + "' > \"$0.partial.$$\"; " +
                             "sh -c 'cat \"$1\" > \"$0.partial.$$\"; kill -KILL $$' '" +
                             (dir / "t.rank1.json").string() + "' '" + src.string() +
                             "'; ulimit -c 0; kill -SEGV $$";
  const auto r = profile({"-o", out.string(), "--json", (dir / "r.json").string(), "--", "/bin/sh",
                          "-c", script, out.string()});
  EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << r.err;
  EXPECT_NE(r.err.find("goodput profile: the program died before its trace was finished; "
                       "salvaged 2 events into " +
                       out.string()),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex("goodput profile: process [0-9]+ died before its trace was finished; "
                        "salvaged 2 events into " +
                        (dir / "t.rank1.json").string())))
      << r.err;
  EXPECT_EQ(r.err.find("no CUDA activity"), std::string::npos) << r.err;

  const auto doc = load(out);
  ASSERT_EQ(doc["traceEvents"].size(), 2u);
  EXPECT_EQ(doc["traceEvents"][1]["name"], "step \"2\"");
  const auto& meta = doc["goodput"];
  EXPECT_EQ(meta["status"], "incomplete");
  EXPECT_EQ(meta["schema"], "goodput.trace");
  EXPECT_NE(meta["status_reason"].get<std::string>().find(
                "the program was killed by signal 11 (Segmentation fault) before the tracer "
                "finished its trace; 2 complete events were kept, the last cut record dropped"),
            std::string::npos)
      << meta["status_reason"];
  EXPECT_EQ(meta["capture"]["marker"], "step");
  EXPECT_EQ(meta["process"]["argv"][0], "/bin/sh");
  const auto rank = load(dir / "t.rank1.json");
  EXPECT_EQ(rank["goodput"]["status"], "incomplete");
  EXPECT_EQ(rank["distributedInfo"]["rank"], 1);
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".partial."), std::string::npos) << e.path();

  const auto results = load(dir / "r.json");
  EXPECT_EQ(results["profile"]["signal"], SIGSEGV);
  ASSERT_EQ(results["profile"]["traces"].size(), 2u);
  const auto& entry = results["profile"]["traces"][0];
  EXPECT_EQ(entry["path"], out.string());
  EXPECT_EQ(entry["status"], "incomplete");
  EXPECT_EQ(entry["salvage"]["events_kept"], 2);
}

// The NVTX program under the real tracer, killed with SIGKILL mid-run: its tracer never ran its
// exit handler, and the partial file it had opened becomes the trace.
TEST(ProfileCli, NvtxProgramKilledMidRunLeavesASalvagedTrace) {
  const auto dir = temp_dir();
  const auto out = dir / "k.json";
  const auto r = run_process(
      {GOODPUT_BINARY, "profile", "-o", out.string(), "--", GOODPUT_NVTX_PROGRAM, "hang"}, kNoRank,
      "ready", [&](pid_t) {
        for (const auto& e : fs::directory_iterator(dir)) {
          const auto n = e.path().filename().string();
          const auto at = n.rfind(".partial.");
          if (n.rfind("k.json", 0) == 0 && at != std::string::npos)
            kill(std::stoi(n.substr(at + 9)), SIGKILL);
        }
      });
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  EXPECT_NE(r.err.find("the program died before its trace was finished; salvaged 0 events into " +
                       out.string()),
            std::string::npos)
      << r.err;
  const auto doc = load(out);
  EXPECT_EQ(doc["goodput"]["status"], "incomplete");
  EXPECT_NE(doc["goodput"]["status_reason"].get<std::string>().find(
                "the program was killed by signal 9 (Killed) before the tracer finished"),
            std::string::npos)
      << doc["goodput"]["status_reason"];
}

// A partial whose writer still runs is not touched, and no empty trace replaces it.
TEST(ProfileCli, PartialOfARunningProcessIsLeftAlone) {
  const auto dir = temp_dir();
  const auto out = dir / "a.json";
  const std::string script =
      "sleep 30 </dev/null >/dev/null 2>&1 & echo '{\"traceEvents\": [' > \"$0.partial.$!\"";
  const auto r = profile({"-o", out.string(), "--", "/bin/sh", "-c", script, out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("still runs and may yet finish its trace"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no CUDA activity"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto n = e.path().filename().string();
    ASSERT_EQ(n.rfind("a.json.partial.", 0), 0u) << n;
    kill(std::stoi(n.substr(15)), SIGKILL);
  }
}
