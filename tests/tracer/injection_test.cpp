// The tracer library without a GPU: loaded with dlopen (no driver: CUPTI refuses, the program
// goes on untraced), and injected into a program that only calls NVTX.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/tracer/test_util.hpp"

namespace fs = std::filesystem;
using goodput::test::run_process;

namespace {

fs::path temp_dir() {
  return goodput::test::temp_dir("goodput_injection");
}
nlohmann::json load(const fs::path& p) {
  return goodput::test::load_json(p);
}

std::vector<nlohmann::json> ranges_named(const nlohmann::json& doc, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : doc["traceEvents"])
    if (e.value("cat", "") == "user_annotation" && e.value("name", "") == name) out.push_back(e);
  return out;
}

// Environment for a traced child: no rank variables from the test's own environment.
std::map<std::string, std::string> tracer_env(const fs::path& out) {
  return {{"NVTX_INJECTION64_PATH", GOODPUT_TRACER_LIB_PATH},
          {"GOODPUT_TRACE_OUTPUT", out.string()},
          {"GOODPUT_TRACE_LAUNCHER_PID", std::to_string(getpid())},
          {"RANK", ""},
          {"OMPI_COMM_WORLD_RANK", ""},
          {"SLURM_PROCID", ""},
          {"PMI_RANK", ""},
          {"PMIX_RANK", ""}};
}

// The NVTX program's "steps N" under the tracer, with extra tracer variables.
goodput::test::ProcessResult nvtx_steps(const fs::path& out, int steps,
                                        const std::map<std::string, std::string>& extra) {
  auto env = tracer_env(out);
  for (const auto& [k, v] : extra) env[k] = v;
  return run_process({GOODPUT_NVTX_PROGRAM, "steps", std::to_string(steps)}, env);
}

}  // namespace

TEST(Injection, ExportsOnlyTheEntryPoints) {
  void* h = dlopen(GOODPUT_TRACER_LIB_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  EXPECT_NE(dlsym(h, "InitializeInjection"), nullptr);
  EXPECT_NE(dlsym(h, "InitializeInjectionNvtx2"), nullptr);
  EXPECT_NE(dlsym(h, "goodput_tracer_finish"), nullptr);
  EXPECT_EQ(dlsym(h, "_ZN7goodput5trace12to_usEmm"), nullptr);
  EXPECT_EQ(dlsym(h, "_ZN7goodput17recorded_environmentEv"), nullptr);
  // Not initialised, so unloading is safe here.
  dlclose(h);
}

namespace {

// dlopen + InitializeInjection in a child with no driver; its stderr and exit status.
struct NoDriverRun {
  std::string err;
  int status = 0;
};
NoDriverRun run_without_driver(const fs::path& out,
                               const std::map<std::string, std::string>& extra = {}) {
  int fds[2];
  if (pipe(fds) != 0) return {"pipe failed", -1};
  auto env = tracer_env(out);
  for (const auto& [k, v] : extra) env[k] = v;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    alarm(60);
    for (const auto& [k, v] : env) {
      if (v.empty())
        unsetenv(k.c_str());
      else
        setenv(k.c_str(), v.c_str(), 1);
    }
    setenv("GOODPUT_TRACE_LAUNCHER_PID", std::to_string(getppid()).c_str(), 1);
    void* h = dlopen(GOODPUT_TRACER_LIB_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!h) _exit(10);
    auto init = reinterpret_cast<int (*)()>(dlsym(h, "InitializeInjection"));
    auto finish = reinterpret_cast<void (*)()>(dlsym(h, "goodput_tracer_finish"));
    if (!init || !finish) _exit(11);
    if (init() != 1) _exit(12);
    finish();
    _exit(0);
  }
  close(fds[1]);
  NoDriverRun r;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    r.err.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  waitpid(pid, &r.status, 0);
  return r;
}

}  // namespace

// dlopen + InitializeInjection with no driver: one warning, no crash, a trace saying why.
TEST(Injection, NoDriverDegradesToUntraced) {
  const auto dir = temp_dir();
  const auto out = dir / "nodriver.json";
  const auto [err, status] = run_without_driver(out);
  ASSERT_TRUE(WIFEXITED(status)) << "the tracer crashed the process (signal " << WTERMSIG(status)
                                 << ")";
  ASSERT_EQ(WEXITSTATUS(status), 0) << err;
  EXPECT_NE(err.find("goodput tracer: CUPTI refused to trace"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  const auto doc = load(out);
  const auto& meta = doc["goodput"];
  EXPECT_EQ(meta["status"], "untraced");
  EXPECT_NE(meta["status_reason"].get<std::string>().find("no CUDA driver"), std::string::npos)
      << meta["status_reason"];
  EXPECT_EQ(meta["cuda_initialized"], true);
  EXPECT_EQ(meta["cupti"]["subscribed"], false);
  EXPECT_TRUE(doc["traceEvents"].is_array());
  EXPECT_TRUE(meta["counters"].is_null());  // none requested
}

// Counters requested but CUPTI refused: still one warning, and the trace says why no counters.
TEST(Injection, NoDriverCountersAreNotCollected) {
  const auto dir = temp_dir();
  const auto out = dir / "nodriver.json";
  const auto [err, status] = run_without_driver(out, {{"GOODPUT_TRACE_COUNTERS", "flops"}});
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  const auto c = load(out)["goodput"]["counters"];
  EXPECT_EQ(c["requested"], "flops");
  EXPECT_EQ(c["status"], "not_collected");
  EXPECT_NE(c["reason"].get<std::string>().find("no CUDA driver"), std::string::npos) << c;
  EXPECT_EQ(c["ranges"], 0);
  EXPECT_EQ(c["chip"], "");  // never asked for without a device
}

// NVTX steps but no CUDA context: each step in the window is counted as not measured.
TEST(Injection, CountersWithoutAContextSayWhy) {
  const auto dir = temp_dir();
  const auto out = dir / "nvtx.json";
  const auto r =
      nvtx_steps(out, 5, {{"GOODPUT_TRACE_COUNTERS", "sass"}, {"GOODPUT_TRACE_STEPS", "1:3"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto doc = load(out);
  const auto& c = doc["goodput"]["counters"];
  EXPECT_EQ(c["requested"], "sass");
  EXPECT_EQ(c["status"], "not_collected");
  EXPECT_NE(c["reason"].get<std::string>().find("no CUDA context"), std::string::npos) << c;
  EXPECT_EQ(c["max_ranges"], 2);
  EXPECT_EQ(c["steps_not_measured"]["no_profiler"], 2);
  EXPECT_EQ(c["metrics"].size(), 9u);
  for (const auto& e : doc["traceEvents"]) EXPECT_NE(e.value("cat", ""), "cuda_profiler_range");
}

// An unknown set is a malformed configuration like any other: one warning, the program runs.
TEST(Injection, UnknownCounterSetWarnsOnce) {
  const auto dir = temp_dir();
  const auto out = dir / "nvtx.json";
  const auto r = nvtx_steps(out, 2, {{"GOODPUT_TRACE_COUNTERS", "cycles"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("GOODPUT_TRACE_COUNTERS 'cycles': the counter sets are flops, sass"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Injection, NvtxRangesWithoutCuda) {
  const auto dir = temp_dir();
  const auto out = dir / "nvtx.json";
  const auto r = run_process({GOODPUT_NVTX_PROGRAM, "steps", "3", "5"}, tracer_env(out));
  ASSERT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(r.err, "");
  const auto doc = load(out);
  const auto& meta = doc["goodput"];
  EXPECT_EQ(meta["status"], "complete");
  EXPECT_EQ(meta["cuda_initialized"], false);
  EXPECT_EQ(meta["nvtx_attached"], true);
  EXPECT_EQ(meta["schema"], "goodput.trace");
  const auto steps = ranges_named(doc, "step");
  ASSERT_EQ(steps.size(), 3u);
  for (const auto& s : steps) {
    EXPECT_EQ(s["args"]["depth"], 0);
    EXPECT_EQ(s["args"]["kind"], "push_pop");
    EXPECT_GT(s["dur"].get<double>(), 0.0);
  }
  const auto forward = ranges_named(doc, "forward");
  ASSERT_EQ(forward.size(), 3u);
  EXPECT_EQ(forward[0]["args"]["depth"], 1);
  EXPECT_EQ(forward[0]["tid"], steps[0]["tid"]);
  const auto data = ranges_named(doc, "data");
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0]["args"]["kind"], "start_end");
  const auto reg = ranges_named(doc, "registered name");
  ASSERT_EQ(reg.size(), 3u);
  EXPECT_EQ(reg[0]["args"]["domain"], "mylib");
  EXPECT_EQ(ranges_named(doc, "backward \xc3\xa9").size(), 3u);
  EXPECT_EQ(meta["records"]["ranges"], 15);
  EXPECT_EQ(meta["steps"].size(), 3u);
  EXPECT_EQ(meta["capture"]["steps_seen"], 3);
  EXPECT_GT(meta["tracer"]["overhead_ns"]["nvtx_handlers"].get<double>(), 0.0);
}

TEST(Injection, StepWindowKeepsOnlyTheRequestedSteps) {
  const auto dir = temp_dir();
  const auto out = dir / "window.json";
  const auto r = nvtx_steps(out, 5, {{"GOODPUT_TRACE_STEPS", "1:3"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = load(out);
  EXPECT_EQ(ranges_named(doc, "step").size(), 2u);
  EXPECT_EQ(ranges_named(doc, "forward").size(), 2u);
  const auto& capture = doc["goodput"]["capture"];
  EXPECT_EQ(capture["steps_seen"], 5);
  EXPECT_EQ(capture["complete"], true);
  ASSERT_EQ(doc["goodput"]["steps"].size(), 2u);
  EXPECT_EQ(doc["goodput"]["steps"][0]["index"], 1);
}

TEST(Injection, RankNamesTheFile) {
  const auto dir = temp_dir();
  auto env = tracer_env(dir / "t.json");
  env["RANK"] = "3";
  env["WORLD_SIZE"] = "4";
  ASSERT_EQ(run_process({GOODPUT_NVTX_PROGRAM, "steps", "1"}, env).exit_code, 0);
  const auto doc = load(dir / "t.rank3.json");
  EXPECT_EQ(doc["distributedInfo"]["rank"], 3);
  EXPECT_EQ(doc["distributedInfo"]["world_size"], 4);
  EXPECT_FALSE(fs::exists(dir / "t.json"));
}

TEST(Injection, ForkedChildLeavesTheParentsTraceAlone) {
  const auto dir = temp_dir();
  const auto out = dir / "fork.json";
  const auto r = run_process({GOODPUT_NVTX_PROGRAM, "fork"}, tracer_env(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = load(out);
  EXPECT_EQ(ranges_named(doc, "parent").size(), 1u);
  EXPECT_EQ(ranges_named(doc, "child").size(), 0u);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) ++files, (void)e;
  EXPECT_EQ(files, 1u) << "the child wrote or left a file";
}

TEST(Injection, SigtermStillLeavesAValidTrace) {
  const auto dir = temp_dir();
  const auto out = dir / "term.json";
  const auto r = run_process({GOODPUT_NVTX_PROGRAM, "hang"}, tracer_env(out), "ready",
                             [](pid_t pid) { kill(pid, SIGTERM); });
  EXPECT_EQ(r.signal, SIGTERM);  // the program still dies of the signal, as it would untraced
  const auto doc = load(out);
  EXPECT_EQ(doc["goodput"]["status"], "interrupted");
  const auto steps = ranges_named(doc, "step");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0]["args"]["closed"], false);
}
