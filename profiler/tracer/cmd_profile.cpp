// `goodput profile -- CMD ARGS...`: runs an unmodified program with the tracer injected through
// CUDA_INJECTION64_PATH and NVTX_INJECTION64_PATH, returns the program's own exit code, and says
// which traces it wrote. Host-only: the program is what loads the tracer, not this process. A
// process that died before finishing its trace (a crash at exit, SIGKILL) leaves a partial file:
// it is salvaged into the trace that process would have written (trace_format/salvage.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/cli/commands.hpp"
#include "harness/core/data_dir.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/trace_format/counter_ranges.hpp"
#include "profiler/trace_format/salvage.hpp"
#include "profiler/trace_format/trace_files.hpp"
#include "profiler/trace_format/trace_meta.hpp"
#include "profiler/trace_format/tracer_env.hpp"

namespace goodput::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kTracerLib = "libgoodput_tracer.so";

struct ProfileOptions {
  std::string output = "goodput-trace.json";
  std::string steps;
  std::string step_marker = trace::kDefaultStepMarker;
  std::string counters;
  std::string activities;
  int buffer_mb = 0;
  std::string json;
  std::vector<std::string> command;
};

// The tracer library: $GOODPUT_TRACER_LIB, next to the goodput binary, ../lib from it, or the
// build tree this binary came from.
std::string find_tracer_library() {
#ifdef GOODPUT_TRACER_BUILD_PATH
  const std::string build_path = GOODPUT_TRACER_BUILD_PATH;
#else
  const std::string build_path;
#endif
  std::string path = companion_library(kTracerLib, "GOODPUT_TRACER_LIB", build_path);
  if (path.empty())
    throw NoGpuError(
        "the tracer library (libgoodput_tracer.so) is not available: goodput was built without "
        "the CUDA toolkit (CUPTI), or the library is not installed next to the binary; set "
        "GOODPUT_TRACER_LIB to its path");
  return path;
}

// The program as execv needs it: a path, searched in PATH when the name has no '/'.
std::string resolve_program(const std::string& name) {
  auto runnable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (!fs::exists(name)) throw InputError("program '" + name + "': no such file");
    if (!runnable(name)) throw InputError("program '" + name + "': not an executable file");
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, end - start);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (runnable(candidate)) return candidate.string();
    start = end + 1;
  }
  throw InputError("program '" + name + "': not found in PATH");
}

pid_t g_child = -1;

// SIGTERM (and a SIGINT sent with kill) go on to the program, which then ends and leaves its
// trace; a Ctrl-C from the terminal already reaches the program, being in the same group.
extern "C" void forward_signal(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && (sig == SIGTERM || (info && info->si_code == SI_USER))) kill(g_child, sig);
}

struct ChildResult {
  pid_t pid = -1;
  int exit_code = 0;
  int signal = 0;
};

ChildResult run_child(const std::string& program, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw RuntimeFailure(std::string("pipe: ") + std::strerror(errno));
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Signals stay blocked from before the fork until the program's pid is known, so one sent
  // right after the program started is forwarded, not lost.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execv(program.c_str(), argv.data());
    const int err = errno;
    (void)!write(fds[1], &err, sizeof err);
    _exit(127);
  }
  if (pid < 0) {
    const int err = errno;
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    throw RuntimeFailure(std::string("fork: ") + std::strerror(err));
  }
  close(fds[1]);
  g_child = pid;
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(fds[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_child = -1;
  if (n == static_cast<ssize_t>(sizeof exec_errno))
    throw InputError("cannot run '" + program + "': " + std::strerror(exec_errno));
  ChildResult r;
  r.pid = pid;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    r.exit_code = 128 + r.signal;
  }
  return r;
}

// "was killed by signal 11 (Segmentation fault)", "exited with code 1".
std::string how_it_ended(const ChildResult& c) {
  if (c.signal)
    return "was killed by signal " + std::to_string(c.signal) + " (" + strsignal(c.signal) + ")";
  return "exited with code " + std::to_string(c.exit_code);
}

// Salvages the partial trace of a process that died before finishing it into the trace it would
// have written, and says so in one line. A partial whose writer still runs, or whose final name
// already holds a trace of this run, is left as it is: the returned `traces` entry says why.
std::optional<nlohmann::json> salvage_partial_trace(const trace::PartialTrace& p,
                                                    const ChildResult& child,
                                                    const ProfileOptions& o,
                                                    fs::file_time_type since,
                                                    std::set<std::string>& salvaged) {
  auto leave = [&](const std::string& why) {
    std::fprintf(stderr, "goodput profile: %s left as it is: %s\n", p.path.c_str(), why.c_str());
    return nlohmann::json{{"path", p.path}, {"status", "partial"}, {"reason", why}};
  };
  const std::string pid = std::to_string(p.pid);
  if (trace::process_running(p.pid))
    return leave("process " + pid + " still runs and may yet finish its trace");
  std::error_code ec;
  if (fs::exists(p.final_path, ec) && fs::last_write_time(p.final_path, ec) >= since)
    return leave(p.final_path + " already holds a trace finished during this run");
  const bool direct = p.pid == child.pid;
  trace::SalvageContext context;
  context.step_marker = o.step_marker;
  context.cause = direct ? "the program " + how_it_ended(child)
                         : "process " + pid + " ended (the program " + how_it_ended(child) + ")";
  if (direct) {
    context.argv = o.command;
    context.ppid = getpid();
  }
  try {
    const auto r = trace::salvage_partial(p, context);
    std::fprintf(stderr,
                 "goodput profile: %s died before its trace was finished; salvaged %llu events "
                 "into %s\n",
                 direct ? "the program" : ("process " + pid).c_str(),
                 static_cast<unsigned long long>(r.events_kept), r.path.c_str());
    salvaged.insert(r.path);
    return std::nullopt;
  } catch (const Error& e) {
    return leave(std::string("cannot salvage it: ") + e.what());
  }
}

std::string summary_line(const std::string& path, const nlohmann::json& meta) {
  const auto& rec = meta.value("records", nlohmann::json::object());
  auto count = [&](const char* k) { return rec.value(k, std::uint64_t{0}); };
  const auto& oh =
      meta.value("tracer", nlohmann::json::object()).value("overhead_ns", nlohmann::json::object());
  double overhead_ms = 0;
  for (const auto& [k, v] : oh.items())
    if (v.is_number()) overhead_ms += v.get<double>() / 1e6;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: %s; %llu kernels, %llu copies, %llu memsets, %llu runtime calls, %llu NVTX "
                "ranges, %zu steps; %llu records dropped; tracer time %.1f ms",
                path.c_str(), meta.value("status", std::string("?")).c_str(),
                static_cast<unsigned long long>(count("kernels")),
                static_cast<unsigned long long>(count("memcpy")),
                static_cast<unsigned long long>(count("memset")),
                static_cast<unsigned long long>(count("cuda_runtime")),
                static_cast<unsigned long long>(count("ranges")),
                meta.value("steps", nlohmann::json::array()).size(),
                static_cast<unsigned long long>(meta.value("dropped_records", std::uint64_t{0})),
                overhead_ms);
  std::string line = buf;
  const auto reason = meta.value("status_reason", std::string());
  if (!reason.empty()) line += "\n  " + reason;
  const auto counters = meta.value("counters", nlohmann::json());
  if (counters.is_object()) {
    line += "\n  counters (" + counters.value("requested", std::string()) +
            "): " + counters.value("status", std::string("?")) + ", " +
            std::to_string(counters.value("ranges", 0)) + " step ranges";
    const auto why = counters.value("reason", std::string());
    if (!why.empty()) line += "; " + why;
  }
  return line;
}

int run_profile(const ProfileOptions& o, const Invocation& inv) {
  if (o.command.empty())
    throw InputError("no program to profile: goodput profile [options] -- PROGRAM [ARGS...]");
  if (!o.steps.empty()) trace::parse_steps(o.steps);
  if (!o.counters.empty()) trace::counter_set_metrics(o.counters);  // InputError names the sets
  if (o.step_marker.empty()) throw InputError("--step-marker: must not be empty");
  if (!o.activities.empty()) trace::parse_activities(o.activities, "--activities");
  const std::string program = resolve_program(o.command.front());
  const std::string library = find_tracer_library();
  const std::string output = fs::absolute(o.output).lexically_normal().string();
  {
    std::error_code ec;
    const auto parent = fs::path(output).parent_path();
    fs::create_directories(parent, ec);
    if (!fs::is_directory(parent))
      throw InputError("-o " + o.output + ": cannot create folder " + parent.string());
  }
  ResultsWriter out(o.json, "profile", inv.argv);
  for (const char* v : {"CUDA_INJECTION64_PATH", "NVTX_INJECTION64_PATH"}) {
    const char* old = std::getenv(v);
    if (old && *old && library != old)
      std::fprintf(stderr, "goodput profile: replacing %s=%s with the goodput tracer\n", v, old);
    setenv(v, library.c_str(), 1);
  }
  setenv(trace::kEnvOutput, output.c_str(), 1);
  setenv(trace::kEnvStepMarker, o.step_marker.c_str(), 1);
  setenv(trace::kEnvSteps, o.steps.c_str(), 1);
  setenv(trace::kEnvCounters, o.counters.c_str(), 1);
  setenv(trace::kEnvActivities, o.activities.c_str(), 1);
  setenv(trace::kEnvLauncherPid, std::to_string(getpid()).c_str(), 1);
  if (o.buffer_mb > 0) setenv(trace::kEnvBufferMb, std::to_string(o.buffer_mb).c_str(), 1);

  // File times have coarse granularity on some file systems: allow a second of slack.
  const auto since = fs::file_time_type::clock::now() - std::chrono::seconds(1);
  const ChildResult child = run_child(program, o.command);

  nlohmann::json traces = nlohmann::json::array();
  std::set<std::string> salvaged;
  const auto partials = trace::find_partial_traces(output, since);
  for (const auto& p : partials)
    if (auto left = salvage_partial_trace(p, child, o, since, salvaged))
      traces.push_back(std::move(*left));
  auto files = trace::find_trace_files(output, since);
  if (files.empty() && partials.empty()) {
    const std::string reason =
        "no CUDA activity was seen: no process wrote a trace or a partial trace, so none "
        "initialised CUDA or called NVTX (either loads the tracer)";
    write_json_atomic(output,
                      trace::empty_trace(trace::kStatusNoCuda, reason,
                                         trace::rank_from_env(trace::process_env()), o.command));
    std::fprintf(stderr, "goodput profile: %s; wrote the empty trace %s\n", reason.c_str(),
                 output.c_str());
    traces.push_back({{"path", output}, {"status", trace::kStatusNoCuda}});
  }
  for (const auto& f : files) {
    try {
      const auto meta = trace::read_trace_meta(f);
      // A salvaged trace was announced with its event count; it has no per-kind counts.
      if (!salvaged.count(f))
        std::fprintf(stderr, "goodput profile: %s\n", summary_line(f, meta).c_str());
      nlohmann::json entry = {{"path", f},
                              {"status", meta.value("status", "")},
                              {"rank", meta.value("rank", nlohmann::json())},
                              {"records", meta.value("records", nlohmann::json::object())},
                              {"dropped_records", meta.value("dropped_records", 0)},
                              {"tracer", meta.value("tracer", nlohmann::json::object())}};
      if (meta.contains("salvaged_from")) {
        entry["status_reason"] = meta.value("status_reason", "");
        entry["salvaged_from"] = meta["salvaged_from"];
        entry["salvage"] = meta.value("salvage", nlohmann::json::object());
      }
      traces.push_back(std::move(entry));
    } catch (const Error& e) {
      std::fprintf(stderr, "goodput profile: %s\n", e.what());
      traces.push_back({{"path", f}, {"status", "unreadable"}, {"error", e.what()}});
    }
  }
  if (child.signal)
    std::fprintf(stderr, "goodput profile: the program was killed by signal %d (%s)\n",
                 child.signal, strsignal(child.signal));
  out.set("profile", {{"program", trace::redact_argv(o.command)},
                      {"exit_code", child.exit_code},
                      {"signal", child.signal},
                      {"traces", traces}});
  out.finish("complete");
  return child.exit_code;
}

}  // namespace

Command profile_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "profile", "Trace an unmodified CUDA program (kernels, copies, NVTX steps) through CUPTI");
  auto o = std::make_shared<ProfileOptions>();
  sub->add_option("-o,--output", o->output,
                  "Trace file (Chrome-trace JSON); ranks write <stem>.rank<N>.json")
      ->capture_default_str();
  sub->add_option("--steps", o->steps, "Record only steps A..B-1 (0-based), e.g. 10:15");
  sub->add_option("--step-marker", o->step_marker, "NVTX range name that marks a step")
      ->capture_default_str();
  sub->add_option("--counters", o->counters,
                  std::string("Hardware counters per step, CUPTI range profiler (") +
                      trace::kCounterSets + "); with --steps, for those steps, else the first " +
                      std::to_string(trace::kDefaultCounterRanges));
  sub->add_option("--activities", o->activities,
                  std::string("What to record, a comma list of: ") + trace::kActivityNames +
                      " (default all), or none (NVTX ranges only)")
      ->envname(trace::kEnvActivities);
  sub->add_option("--buffer-mb", o->buffer_mb,
                  "Cap on CUPTI activity buffer memory (MiB, default 256)")
      ->check(CLI::Range(1, 65536));
  add_json_option(sub, o->json);
  sub->add_option("command", o->command, "The program and its arguments, after --")->required();
  sub->footer(
      "Example: goodput profile -o step.json --steps 10:15 -- python train.py\n"
      "Returns the program's exit code (128+N when it died of signal N).");
  return {sub, [o](const Invocation& inv) { return run_profile(*o, inv); }};
}

}  // namespace goodput::cli
