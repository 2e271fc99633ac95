// `goodput profile -- CMD ARGS...`: runs an unmodified program with the tracer injected through
// CUDA_INJECTION64_PATH and NVTX_INJECTION64_PATH, returns the program's own exit code, and says
// which traces it wrote. Host-only: the program is what loads the tracer, not this process. A
// process that died before finishing its trace (a crash at exit, SIGKILL) leaves a partial file:
// it is salvaged into the trace that process would have written (trace_format/salvage.hpp).
#include <dlfcn.h>
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
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "harness/cli/commands.hpp"
#include "harness/core/data_dir.hpp"
#include "harness/core/env.hpp"
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
// As shells have it: the program was not found, or found but could not be run.
constexpr int kExitNotFound = 127;
constexpr int kExitNotExecutable = 126;

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
    if (!fs::exists(name)) throw Error(kExitNotFound, "program '" + name + "': no such file");
    if (!runnable(name))
      throw Error(kExitNotExecutable, "program '" + name + "': not an executable file");
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
  throw Error(kExitNotFound, "program '" + name + "': not found in PATH");
}

// The -o path made absolute, checked before the program runs: a file name (not a folder), not an
// existing device, pipe or socket (the finished trace is renamed over the name, which would
// replace the node), in a folder where files can be created (made when missing).
std::string checked_output(const std::string& given) {
  if (given.empty()) throw InputError("-o: the trace path is empty");
  const fs::path path = fs::absolute(given).lexically_normal();
  std::error_code ec;
  if (!path.has_filename() || fs::is_directory(path, ec))
    throw InputError("-o " + given + ": names a folder; give the trace's file name, e.g. " +
                     (fs::path(given) / "trace.json").lexically_normal().string());
  const auto st = fs::status(path, ec);
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw InputError("-o " + given +
                     ": exists and is not a regular file (a device, pipe or socket); the trace "
                     "would replace it");
  const fs::path parent = path.parent_path();
  fs::create_directories(parent, ec);
  if (!fs::is_directory(parent, ec))
    throw InputError("-o " + given + ": cannot create folder " + parent.string());
  // Probe: access() says yes to root on a read-only mount or /proc.
  const fs::path probe = parent / (".goodput-probe." + std::to_string(getpid()));
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw InputError("-o " + given + ": cannot create files in " + parent.string() + " (" +
                     std::strerror(errno) + ")");
  close(fd);
  unlink(probe.c_str());
  return path.string();
}

// One id per run, which its tracers write into their traces (trace_header): the run reports and
// salvages only those, not traces an earlier run left under the same names.
std::string new_run_id() {
  std::random_device random;
  char bits[20];
  std::snprintf(bits, sizeof bits, "%08x%08x", random(), random());
  return std::to_string(getpid()) + "-" + bits;
}

// Why the program's CUDA work cannot be traced here, or "" when it can: the driver is what loads
// the tracer (CUDA_INJECTION64_PATH), so without one only NVTX calls reach it.
std::string missing_driver() {
  void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver) return "no NVIDIA driver (libcuda.so.1 not found)";
  dlclose(driver);
  return "";
}

pid_t g_child = -1;

// Signals that go on to the program. SIGINT and SIGQUIT only when sent with kill: from the
// terminal (Ctrl-C, Ctrl-\) they already reach the program, being in the same group.
constexpr int kForwarded[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};

extern "C" void forward_signal(int sig, siginfo_t* info, void*) {
  const bool from_terminal = sig == SIGINT || sig == SIGQUIT;
  if (g_child > 0 && (!from_terminal || (info && info->si_code == SI_USER))) kill(g_child, sig);
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
  constexpr std::size_t kSignals = std::size(kForwarded);
  sigset_t block, old_mask;
  sigemptyset(&block);
  for (int sig : kForwarded) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction sa {};
  struct sigaction old[kSignals] = {};
  bool ignored[kSignals] = {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (std::size_t i = 0; i < kSignals; ++i) {
    sigaction(kForwarded[i], nullptr, &old[i]);
    // An ignored signal (nohup) stays ignored, in the program too.
    ignored[i] = !(old[i].sa_flags & SA_SIGINFO) && old[i].sa_handler == SIG_IGN;
    if (!ignored[i]) sigaction(kForwarded[i], &sa, nullptr);
  }
  auto restore = [&] {
    for (std::size_t i = 0; i < kSignals; ++i) sigaction(kForwarded[i], &old[i], nullptr);
  };
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    for (std::size_t i = 0; i < kSignals; ++i)
      if (!ignored[i]) signal(kForwarded[i], SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execv(program.c_str(), argv.data());
    const int err = errno;
    (void)!write(fds[1], &err, sizeof err);
    _exit(127);
  }
  if (pid < 0) {
    const int err = errno;
    restore();
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
  restore();
  g_child = -1;
  if (n == static_cast<ssize_t>(sizeof exec_errno))
    throw Error(exec_errno == ENOENT ? kExitNotFound : kExitNotExecutable,
                "cannot run '" + program + "': " + std::strerror(exec_errno));
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
// have written, and says so in one line. A partial whose writer still runs is left as it is: the
// returned `traces` entry says why. When the final name already holds a trace of this run
// (another process with the same rank), the salvaged trace goes beside it (sibling_trace_path).
std::optional<nlohmann::json> salvage_partial_trace(trace::PartialTrace p, const ChildResult& child,
                                                    const ProfileOptions& o,
                                                    const std::string& run_id,
                                                    std::set<std::string>& salvaged) {
  auto leave = [&](const std::string& why) {
    std::fprintf(stderr, "goodput profile: %s left as it is: %s\n", p.path.c_str(), why.c_str());
    return nlohmann::json{{"path", p.path}, {"status", "partial"}, {"reason", why}};
  };
  const std::string pid = std::to_string(p.pid);
  if (trace::process_running(p.pid))
    return leave("process " + pid + " still runs and may yet finish its trace");
  if (trace::trace_run_id(p.final_path) == run_id) {
    const std::string taken = p.final_path;
    p.final_path = trace::sibling_trace_path(taken, p.pid);
    std::fprintf(stderr,
                 "goodput profile: %s already holds the trace of another process of this run; "
                 "process %s's goes to %s\n",
                 taken.c_str(), pid.c_str(), p.final_path.c_str());
  }
  const bool direct = p.pid == child.pid;
  trace::SalvageContext context;
  context.step_marker = o.step_marker;
  context.run_id = run_id;
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

// The results entry of one trace of the run, with its summary line on stderr.
nlohmann::json trace_entry(const std::string& f, const std::set<std::string>& salvaged) {
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
    return entry;
  } catch (const Error& e) {
    std::fprintf(stderr, "goodput profile: %s\n", e.what());
    return {{"path", f}, {"status", "unreadable"}, {"error", e.what()}};
  }
}

// Two traces of one rank: more than one process had it (a helper that inherited RANK).
void warn_shared_ranks(const nlohmann::json& traces) {
  std::map<long long, std::vector<std::string>> by_rank;
  for (const auto& t : traces) {
    const auto info = t.value("rank", nlohmann::json());
    const auto rank = info.is_object() ? info.value("rank", nlohmann::json()) : nlohmann::json();
    if (rank.is_number_integer()) by_rank[rank.get<long long>()].push_back(t.value("path", ""));
  }
  for (const auto& [rank, paths] : by_rank) {
    if (paths.size() < 2) continue;
    std::string list;
    for (const auto& p : paths) list += (list.empty() ? "" : ", ") + p;
    std::fprintf(stderr,
                 "goodput profile: %zu processes wrote traces as rank %lld (one inherited the "
                 "rank of another, such as a helper process): %s\n",
                 paths.size(), rank, list.c_str());
  }
}

// The trace written when no process of the run wrote one: why it is empty.
nlohmann::json empty_run_trace(const ProfileOptions& o, const std::string& run_id,
                               const std::string& no_driver, std::string& reason) {
  const bool untraced = !no_driver.empty();
  reason = untraced ? no_driver +
                          ": CUDA work cannot be traced, and no process called NVTX (no trace or "
                          "partial trace was written)"
                    : "no CUDA activity was seen: no process wrote a trace or a partial trace, "
                      "so none initialised CUDA or called NVTX (either loads the tracer)";
  auto doc = trace::empty_trace(untraced ? trace::kStatusUntraced : trace::kStatusNoCuda, reason,
                                trace::rank_from_env(trace::process_env()), o.command);
  doc["goodput"]["run_id"] = run_id;
  return doc;
}

// After the program ended: salvages the partials of this run, writes the empty trace when there
// is nothing else, and reports every trace of the run (stderr and the results' profile section).
void report_run(const ProfileOptions& o, const std::string& output, const trace::ThisRun& run,
                const std::string& no_driver, const ChildResult& child, ResultsWriter& out) {
  nlohmann::json traces = nlohmann::json::array();
  std::set<std::string> salvaged;
  const auto partials = trace::find_partial_traces(output, run);
  for (const auto& p : partials)
    if (auto left = salvage_partial_trace(p, child, o, run.id, salvaged))
      traces.push_back(std::move(*left));
  const auto files = trace::find_trace_files(output, run);
  if (files.empty() && partials.empty()) {
    std::string reason;
    const auto doc = empty_run_trace(o, run.id, no_driver, reason);
    try {
      write_json_atomic(output, doc);
      std::fprintf(stderr, "goodput profile: %s; wrote the empty trace %s\n", reason.c_str(),
                   output.c_str());
      traces.push_back({{"path", output}, {"status", doc["goodput"]["status"]}});
    } catch (const Error& e) {
      std::fprintf(stderr, "goodput profile: %s; %s\n", reason.c_str(), e.what());
      traces.push_back({{"path", output}, {"status", "unwritten"}, {"error", e.what()}});
    }
  }
  for (const auto& f : files) traces.push_back(trace_entry(f, salvaged));
  warn_shared_ranks(traces);
  if (child.signal)
    std::fprintf(stderr, "goodput profile: the program was killed by signal %d (%s)\n",
                 child.signal, strsignal(child.signal));
  out.set("profile", {{"program", redact_argv(o.command)},
                      {"exit_code", child.exit_code},
                      {"signal", child.signal},
                      {"traces", traces}});
  out.finish("complete");
}

int run_profile(const ProfileOptions& o, const Invocation& inv) {
  if (o.command.empty())
    throw InputError("no program after --: goodput profile [options] -- PROGRAM [ARGS...]");
  if (!o.steps.empty()) trace::parse_steps(o.steps);
  if (!o.counters.empty()) trace::counter_set_metrics(o.counters);  // InputError names the sets
  if (o.step_marker.empty()) throw InputError("--step-marker: must not be empty");
  if (!o.activities.empty()) trace::parse_activities(o.activities, "--activities");
  const std::string output = checked_output(o.output);
  const std::string program = resolve_program(o.command.front());
  const std::string library = find_tracer_library();
  const std::string no_driver = missing_driver();
  const std::string run_id = new_run_id();
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
  setenv(trace::kEnvRunId, run_id.c_str(), 1);
  if (no_driver.empty()) {
    unsetenv(trace::kEnvNoDriver);
  } else {
    setenv(trace::kEnvNoDriver, no_driver.c_str(), 1);
  }
  if (o.buffer_mb > 0) setenv(trace::kEnvBufferMb, std::to_string(o.buffer_mb).c_str(), 1);
  // The tracer's own variables (GOODPUT_TRACE_BUFFER_ZEROING, ...) as the program will see them:
  // a bad one is refused here, not found out after the program ran untraced.
  trace::tracer_config_from_env(trace::process_env());
  ResultsWriter out(o.json, "profile", inv.argv);
  if (!no_driver.empty())
    std::fprintf(stderr,
                 "goodput profile: %s: the program's CUDA work cannot be traced, its traces say "
                 "untraced (NVTX ranges are still recorded)\n",
                 no_driver.c_str());

  const trace::ThisRun run{run_id, trace::file_time_now()};
  ChildResult child;
  try {
    child = run_child(program, o.command);
  } catch (const Error& e) {
    out.finish("failed", e.what());
    throw;
  }
  // The program's exit code is what this returns: a failure to report is a warning.
  try {
    report_run(o, output, run, no_driver, child, out);
  } catch (const Error& e) {
    std::fprintf(stderr, "goodput profile: %s\n", e.what());
  }
  return child.exit_code;
}

}  // namespace

Command profile_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "profile", "Trace an unmodified CUDA program (kernels, copies, NVTX steps) through CUPTI");
  auto o = std::make_shared<ProfileOptions>();
  sub->add_option("-o,--output", o->output,
                  "Trace file (Chrome-trace JSON; not a folder); ranks write <stem>.rank<N>.json")
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
  sub->add_option("command", o->command, "The program and its arguments, after --");
  sub->footer(
      "Example: goodput profile -o step.json --steps 10:15 -- python train.py\n"
      "Returns the program's exit code (128+N when it died of signal N); 126 when the program "
      "cannot be run, 127 when it is not found.");
  return {sub, [o](const Invocation& inv) { return run_profile(*o, inv); }};
}

}  // namespace goodput::cli
