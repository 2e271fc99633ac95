// `goodput profile` end to end on this machine: usage errors, exit codes, programs that never
// use CUDA, NVTX-only programs, ranks and signals, and programs that die before their trace is
// finished.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

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

// No rank variables, and a stand-in driver (fake_driver.cpp), so statuses are those of a machine
// with a driver whether or not this one has one.
const std::map<std::string, std::string> kNoRank = {{"RANK", ""},
                                                    {"OMPI_COMM_WORLD_RANK", ""},
                                                    {"SLURM_PROCID", ""},
                                                    {"PMI_RANK", ""},
                                                    {"PMIX_RANK", ""},
                                                    {"GOODPUT_TRACER_LIB", GOODPUT_TRACER_LIB_PATH},
                                                    {"LD_LIBRARY_PATH", GOODPUT_FAKE_DRIVER_DIR}};

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

// As shells have it: 127 for a program not found, 126 for one that cannot be run.
TEST(ProfileCli, MissingProgramExit127AndNotExecutable126) {
  const auto dir = temp_dir();
  auto r = profile({"-o", (dir / "t.json").string(), "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("/nonexistent/program"), std::string::npos) << r.err;
  r = profile({"-o", (dir / "t.json").string(), "--", "goodput-no-such-program-here"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("not found in PATH"), std::string::npos) << r.err;
  std::ofstream(dir / "plain.txt") << "not a program\n";
  r = profile({"-o", (dir / "t.json").string(), "--", (dir / "plain.txt").string()});
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_NE(r.err.find("not an executable file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "t.json"));
}

TEST(ProfileCli, NothingAfterTheDashesSaysSo) {
  for (const auto& args :
       {std::vector<std::string>{"--"}, std::vector<std::string>{"-o", "x.json", "--"}}) {
    const auto r = profile(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("no program after --"), std::string::npos) << r.err;
  }
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

// `goodput profile -o OUT` of the NVTX program, killed with SIGKILL once it is ready: the pid in
// its partial file's name (OUT.partial.PID, in dir) is the program's.
goodput::test::ProcessResult profile_killed_mid_run(const fs::path& dir, const fs::path& out) {
  const std::string stem = out.filename().string();
  return run_process(
      {GOODPUT_BINARY, "profile", "-o", out.string(), "--", GOODPUT_NVTX_PROGRAM, "hang"}, kNoRank,
      "ready", [&](pid_t) {
        for (const auto& e : fs::directory_iterator(dir)) {
          const auto n = e.path().filename().string();
          const auto at = n.rfind(".partial.");
          if (n.rfind(stem, 0) == 0 && at != std::string::npos)
            kill(std::stoi(n.substr(at + 9)), SIGKILL);
        }
      });
}

// The NVTX program under the real tracer, killed with SIGKILL mid-run: its tracer never ran its
// exit handler, and the partial file it had opened becomes the trace.
TEST(ProfileCli, NvtxProgramKilledMidRunLeavesASalvagedTrace) {
  const auto dir = temp_dir();
  const auto out = dir / "k.json";
  const auto r = profile_killed_mid_run(dir, out);
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

namespace {

// A program that leaves a mark when it runs: a usage error must be found before.
std::vector<std::string> marking_program(const fs::path& mark, const std::string& code = "5") {
  return {"/bin/sh", "-c", "touch '" + mark.string() + "'; exit " + code};
}

std::vector<std::string> with_output(const std::string& output, std::vector<std::string> program) {
  std::vector<std::string> args = {"-o", output, "--"};
  args.insert(args.end(), program.begin(), program.end());
  return args;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// A trace an earlier run left under the same name is not this run's, however recent: the run that
// follows at once reports what it did itself.
TEST(ProfileCli, AnEarlierRunsTraceIsNotThisRuns) {
  const auto dir = temp_dir();
  const auto out = (dir / "x.json").string();
  auto r = profile({"-o", out, "--", GOODPUT_NVTX_PROGRAM, "steps", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(load(out)["goodput"]["status"], "complete");
  r = profile({"-o", out, "--", "/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("x.json: complete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no CUDA activity was seen"), std::string::npos) << r.err;
  const auto doc = load(out);
  EXPECT_EQ(doc["goodput"]["status"], "no_cuda_activity");
  EXPECT_EQ(doc["goodput"]["process"]["argv"][0], "/bin/true");
}

// The partial of a program killed right after an earlier run finished a trace of that name is
// salvaged, not left beside the older trace.
TEST(ProfileCli, KilledRightAfterAnEarlierRunIsSalvaged) {
  const auto dir = temp_dir();
  const auto out = dir / "k.json";
  auto r = profile({"-o", out.string(), "--", GOODPUT_NVTX_PROGRAM, "steps", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = profile_killed_mid_run(dir, out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  EXPECT_EQ(r.err.find("left as it is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("salvaged 0 events into " + out.string()), std::string::npos) << r.err;
  EXPECT_EQ(load(out)["goodput"]["status"], "incomplete");
}

// -o must name a file the trace can be written to: otherwise a usage error, before the program
// runs, with nothing left behind. A device, pipe or socket is never replaced by the trace.
TEST(ProfileCli, UnusableOutputIsAUsageErrorBeforeTheProgramRuns) {
  const auto dir = temp_dir();
  const auto mark = dir / "ran";
  const auto fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directories(dir / "d");
  std::ofstream(dir / "file") << "x";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {fifo.string(), "not a regular file"},
      {"", "the trace path is empty"},
      {(dir / "d").string(), "names a folder"},
      {(dir / "d").string() + "/", "names a folder"},
      {(dir / "d" / ".").string(), "names a folder"},
      {"/proc/goodput-x.json", "cannot create files in /proc"},
      {(dir / "file" / "x.json").string(), "cannot create folder"}};
  const auto before = names_in(dir);
  for (const auto& [output, why] : cases) {
    const auto r = profile(with_output(output, marking_program(mark)));
    EXPECT_EQ(r.exit_code, 2) << output << "\n" << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << output << "\n" << r.err;
    EXPECT_FALSE(fs::exists(mark)) << output;
  }
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(names_in(dir), before);
  EXPECT_TRUE(fs::is_empty(dir / "d"));
}

// A failure to report after the program ran does not hide the program's exit code.
TEST(ProfileCli, ReportingFailureKeepsTheProgramsExitCode) {
  const auto dir = temp_dir();
  const auto out = dir / "sub" / "t.json";
  // The program puts a file where the folder was: the empty trace cannot be written.
  const std::string sub = (dir / "sub").string();
  const auto r = profile(with_output(
      out.string(), {"/bin/sh", "-c", "rm -rf '" + sub + "' && echo x > '" + sub + "'; exit 5"}));
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
}

// Credentials on the command line reach neither the results' argv nor the trace.
TEST(ProfileCli, CommandLineCredentialsAreRedactedEverywhere) {
  const auto dir = temp_dir();
  const auto r = profile({"-o", (dir / "t.json").string(), "--json", (dir / "r.json").string(),
                          "--", "/usr/bin/env", "HF_TOKEN=pw8", "/bin/true", "--password=pw9",
                          "postgres://u:pw10@host/db", "--api-key", "pw11", "--max-tokens", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"r.json", "t.json"}) {
    std::ifstream in(dir / file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* secret : {"pw8", "pw9", "pw10", "pw11"})
      EXPECT_EQ(text.find(secret), std::string::npos) << file << " holds " << secret;
  }
  const auto argv = load(dir / "r.json")["meta"]["argv"];
  EXPECT_EQ(argv[argv.size() - 1], "5");
  EXPECT_EQ(argv[argv.size() - 2], "--max-tokens");
  EXPECT_EQ(argv[argv.size() - 5], "postgres://u:<redacted>@host/db");
}

// Without a driver nothing traces CUDA work: one warning, and every trace of the run says so.
TEST(ProfileCli, NoDriverMeansUntraced) {
  if (void* driver = dlopen("libcuda.so.1", RTLD_LAZY)) {
    dlclose(driver);
    GTEST_SKIP() << "this machine has a driver";
  }
  auto env = kNoRank;
  env["LD_LIBRARY_PATH"] = "";
  const auto dir = temp_dir();
  const std::string reason = "no NVIDIA driver (libcuda.so.1 not found)";
  auto r =
      profile({"-o", (dir / "n.json").string(), "--", GOODPUT_NVTX_PROGRAM, "steps", "2"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(r.err, "goodput profile: " + reason), 1u) << r.err;
  auto doc = load(dir / "n.json");
  EXPECT_EQ(doc["goodput"]["status"], "untraced");
  EXPECT_NE(doc["goodput"]["status_reason"].get<std::string>().find(reason), std::string::npos)
      << doc["goodput"]["status_reason"];
  EXPECT_EQ(doc["goodput"]["steps"].size(), 2u);  // NVTX ranges are still recorded
  r = profile({"-o", (dir / "e.json").string(), "--", "/bin/true"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  doc = load(dir / "e.json");
  EXPECT_EQ(doc["goodput"]["status"], "untraced");
  EXPECT_NE(doc["goodput"]["status_reason"].get<std::string>().find(reason), std::string::npos)
      << doc["goodput"]["status_reason"];
}

// Two processes with one rank (the second inherited RANK) both keep their traces, and the run
// says so; a partial bound for a name this run already wrote is salvaged beside it.
TEST(ProfileCli, TwoProcessesWithOneRankKeepBothTraces) {
  const auto dir = temp_dir();
  const auto out = dir / "t.json";
  const std::string nvtx = GOODPUT_NVTX_PROGRAM;
  // The third process writes a partial of this run under the rank-1 name and dies of SIGKILL.
  const std::string script =
      "RANK=1 '" + nvtx + "' steps 1 && RANK=1 '" + nvtx + "' steps 2 && " +
      "sh -c 'printf \"{\\\"goodputRun\\\": \\\"%s\\\", \\\"traceEvents\\\": [\\n\" "
      "\"$GOODPUT_TRACE_RUN_ID\" > \"$0.partial.$$\"; kill -KILL $$' '" +
      (dir / "t.rank1.json").string() + "'; exit 0";
  const auto r = profile({"-o", out.string(), "--", "/bin/sh", "-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> siblings;
  for (const auto& n : names_in(dir))
    if (std::regex_match(n, std::regex(R"(t\.rank1\.pid[0-9]+\.json)"))) siblings.push_back(n);
  ASSERT_EQ(siblings.size(), 2u) << r.err;
  EXPECT_TRUE(fs::exists(dir / "t.rank1.json"));
  EXPECT_EQ(load(dir / "t.rank1.json")["goodput"]["capture"]["steps_seen"], 1);
  std::set<std::string> statuses;
  for (const auto& n : siblings) statuses.insert(load(dir / n)["goodput"]["status"]);
  EXPECT_EQ(statuses, (std::set<std::string>{"complete", "incomplete"}));
  EXPECT_NE(r.err.find("already holds the trace of another process of this run"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("3 processes wrote traces as rank 1"), std::string::npos) << r.err;
}

// A bad tracer variable is refused before the program runs, naming the variable.
TEST(ProfileCli, BadTracerVariableIsAUsageError) {
  const auto dir = temp_dir();
  auto env = kNoRank;
  env["GOODPUT_TRACE_BUFFER_ZEROING"] = "bogus";
  const auto r = profile(with_output((dir / "t.json").string(), marking_program(dir / "ran")), env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("GOODPUT_TRACE_BUFFER_ZEROING 'bogus'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "ran"));
}

// SIGHUP and SIGQUIT sent to goodput reach the program, like SIGTERM.
TEST(ProfileCli, HangupAndQuitAreForwarded) {
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);  // SIGQUIT's default action dumps core
  for (const int sig : {SIGHUP, SIGQUIT}) {
    const auto dir = temp_dir();
    const auto r = run_process({GOODPUT_BINARY, "profile", "-o", (dir / "s.json").string(), "--",
                                GOODPUT_NVTX_PROGRAM, "hang"},
                               kNoRank, "ready", [sig](pid_t goodput) { kill(goodput, sig); });
    EXPECT_EQ(r.exit_code, 128 + sig) << strsignal(sig) << "\n" << r.err;
    EXPECT_TRUE(fs::exists(dir / "s.json")) << r.err;
  }
}
