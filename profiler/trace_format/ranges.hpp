// NVTX ranges as the tracer records them, and the step window that `--steps A:B` selects.
// Push/pop ranges nest per thread and domain; start/end ranges may end on any thread.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "profiler/trace_format/tracer_env.hpp"

namespace goodput::trace {

struct RangeRecord {
  std::uint64_t id = 0;  // unique per process, in start order
  std::string name;
  std::string domain;     // "" for the default domain
  std::uint64_t tid = 0;  // thread that started it
  std::uint64_t start_ns = 0, end_ns = 0;
  int depth = 0;  // nesting level of push/pop ranges on their thread; 0 for start/end ranges
  bool push_pop = true;
  bool closed = true;  // false: still open at exit, end_ns is the exit time
};

class RangeRecorder {
 public:
  // nvtxRangePush: returns the new range's id; depth() of the thread+domain before the push
  // becomes its nesting level.
  std::uint64_t push(std::uint64_t tid, std::string name, std::string domain, std::uint64_t t_ns);
  // nvtxRangePop: the range it closes; nullopt (and an unbalanced pop counted) on an empty stack.
  std::optional<RangeRecord> pop(std::uint64_t tid, const std::string& domain, std::uint64_t t_ns);
  std::uint64_t start(std::uint64_t tid, std::string name, std::string domain, std::uint64_t t_ns);
  // nvtxRangeEnd: nullopt (and counted) for an unknown id.
  std::optional<RangeRecord> end(std::uint64_t id, std::uint64_t t_ns);
  // Ranges still open, closed at t_ns and marked closed = false (at exit).
  std::vector<RangeRecord> close_all(std::uint64_t t_ns);
  int depth(std::uint64_t tid, const std::string& domain) const;
  std::uint64_t unbalanced() const;

 private:
  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::uint64_t unbalanced_ = 0;
  std::map<std::pair<std::uint64_t, std::string>, std::vector<RangeRecord>> stacks_;
  std::unordered_map<std::uint64_t, RangeRecord> started_;
};

// A range marks a step when its name is the marker, or the marker followed by a character that is
// not a letter, digit or '_' ("step", "step 12", "step#3"; not "stepper").
bool step_marker_matches(std::string_view range_name, std::string_view marker);

// Which part of the run is recorded. Without a step span everything is; with [A, B) recording
// starts when step A's range starts and stops when step B-1's range ends.
class StepWindow {
 public:
  enum class Change { kNone, kStart, kStop };
  StepWindow(std::optional<StepSpan> span, std::string marker);
  Change on_range_start(std::string_view name, std::uint64_t range_id, std::uint64_t t_ns);
  Change on_range_end(std::uint64_t range_id, std::uint64_t t_ns);
  bool recording() const { return recording_; }
  bool limited() const { return span_.has_value(); }
  int steps_seen() const { return steps_seen_; }
  std::optional<std::uint64_t> start_ns() const { return start_ns_; }
  std::optional<std::uint64_t> stop_ns() const { return stop_ns_; }
  // Whether [start, end] overlaps what was recorded (true for everything when not limited).
  bool overlaps(std::uint64_t start, std::uint64_t end) const;
  nlohmann::json to_json() const;

 private:
  std::optional<StepSpan> span_;
  std::string marker_;
  bool recording_;
  int steps_seen_ = 0;
  std::unordered_map<std::uint64_t, int> open_steps_;  // range id -> step index
  std::optional<std::uint64_t> start_ns_, stop_ns_;
};

}  // namespace goodput::trace
