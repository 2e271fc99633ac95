// How the tracer is configured and where each process writes its trace. `goodput profile` passes
// its options to the injected library through GOODPUT_TRACE_* environment variables; the rank of a
// process comes from the variables launchers set (torchrun, mpirun, srun).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace goodput::trace {

inline constexpr const char* kEnvOutput = "GOODPUT_TRACE_OUTPUT";
inline constexpr const char* kEnvSteps = "GOODPUT_TRACE_STEPS";
inline constexpr const char* kEnvStepMarker = "GOODPUT_TRACE_STEP_MARKER";
inline constexpr const char* kEnvCounters = "GOODPUT_TRACE_COUNTERS";
inline constexpr const char* kEnvBufferMb = "GOODPUT_TRACE_BUFFER_MB";
inline constexpr const char* kEnvLauncherPid = "GOODPUT_TRACE_LAUNCHER_PID";
inline constexpr const char* kEnvActivities = "GOODPUT_TRACE_ACTIVITIES";
// Who clears CUPTI's activity buffers: "tracer" (default; on its own thread, ahead of time) or
// "cupti" (CUPTI's default: on the program's thread, when it takes a buffer).
inline constexpr const char* kEnvBufferZeroing = "GOODPUT_TRACE_BUFFER_ZEROING";
// The id `goodput profile` gives one run: its tracers write it into each trace's first line and
// metadata, so the run counts only its own traces (not one left by an earlier run).
inline constexpr const char* kEnvRunId = "GOODPUT_TRACE_RUN_ID";
// Set by `goodput profile` when libcuda.so.1 cannot be loaded: why no CUDA work can be traced.
// The tracer (loaded through NVTX) then writes status "untraced" with this reason.
inline constexpr const char* kEnvNoDriver = "GOODPUT_TRACE_NO_DRIVER";
inline constexpr const char* kDefaultStepMarker = "step";

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// getenv of this process.
EnvLookup process_env();

struct RankInfo {
  std::optional<int> rank, local_rank, world_size;
  std::string source;  // the variable the rank came from, "" when unknown
};
// RANK, OMPI_COMM_WORLD_RANK, SLURM_PROCID, PMI_RANK / PMIX_RANK, in that order (and the matching
// local-rank and world-size variables). Values that are not non-negative integers are ignored.
RankInfo rank_from_env(const EnvLookup& env);
nlohmann::json to_json(const RankInfo& r);

// Half-open step interval [first, last): "--steps 10:15" records steps 10..14 (0-based, counted in
// the order the step marker's ranges start).
struct StepSpan {
  int first = 0;
  int last = 0;
};
// "A:B" with 0 <= A < B; InputError naming `what` and the cause otherwise.
StepSpan parse_steps(const std::string& text, const std::string& what = "--steps");

// What the tracer records (GOODPUT_TRACE_ACTIVITIES, a comma list of the names below; "none"
// records nothing but NVTX ranges). Default: everything.
struct Activities {
  bool kernel = true, memcpy = true, memset = true;
  bool runtime = true;  // launches, copies, synchronizations, allocations
  bool driver = true;   // driver-API launches no runtime call stands for
  bool sync = true, overhead = true;
};
inline constexpr const char* kActivityNames =
    "kernel, memcpy, memset, runtime, driver, sync, overhead";
// InputError naming `what` and the valid names on an unknown name.
Activities parse_activities(const std::string& text, const std::string& what);
nlohmann::json to_json(const Activities& a);

struct TracerConfig {
  std::string output;  // base trace path; "" = tracer not configured (library loaded by hand)
  std::optional<StepSpan> steps;
  std::string step_marker = kDefaultStepMarker;
  std::string counters;                       // "" or "flops"
  std::size_t buffer_bytes = 4u << 20;        // one CUPTI activity buffer
  std::size_t buffer_cap_bytes = 256u << 20;  // all buffers together
  bool tracer_zeroes_buffers = true;          // kEnvBufferZeroing
  long launcher_pid = -1;  // pid of `goodput profile`; its direct child writes the exact path
  Activities activities;
  std::string run_id;     // kEnvRunId; "" when loaded outside `goodput profile`
  std::string no_driver;  // kEnvNoDriver
};
// 1 to 64 letters, digits, '-' or '_': written into JSON text as is.
bool valid_run_id(const std::string& id);
// InputError naming the variable on malformed values.
TracerConfig tracer_config_from_env(const EnvLookup& env);

// The file one process writes: rank known -> "<stem>.rank<R><ext>"; else the program started by
// `goodput profile` -> base; else "<stem>.pid<PID><ext>". ext is ".json" when base ends with it.
std::string trace_path_for(const std::string& base, const RankInfo& rank, long pid,
                           bool launched_directly);
// The file of a second process of the run whose name `taken` already holds (two processes with
// one rank, such as a helper that inherited RANK): "<taken stem>.pid<PID><ext>", e.g.
// t.rank1.json -> t.rank1.pid42.json.
std::string sibling_trace_path(const std::string& taken, long pid);

}  // namespace goodput::trace
