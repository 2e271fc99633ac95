// The job event log (JSON Lines, format version 1) and its streaming reader. One line is one
// event: {"v":1,"t":<unix seconds>,"kind":"step_start","rank":0,"attempt":1,"step":12}.
// The reader keeps the events of one reference rank (steps, checkpoints, phases) plus the
// job-level events of every rank (job/attempt start and end, allocation, faults), so memory grows
// with the steps of one rank, not with the ranks.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace goodput::ledger {

inline constexpr int kEventFormatVersion = 1;

enum class Kind : std::uint8_t {
  kJobStart,
  kJobEnd,
  kAttemptStart,
  kAttemptEnd,
  kAllocated,
  kReleased,
  kStepStart,
  kStepEnd,
  kStep,  // a whole step on one line: t = its end, dur = its length
  kCkptSaveBegin,
  kCkptSaveEnd,
  kCkptRestoreBegin,
  kCkptRestoreEnd,
  kPhaseBegin,
  kPhaseEnd,
  kFault,
};
const char* kind_name(Kind k);
std::optional<Kind> kind_from_name(std::string_view name);
// Job-level events are taken from every rank; the others from the reference rank only.
bool is_job_level(Kind k);

struct Event {
  double t = 0;            // seconds since the Unix epoch
  double dur = 0;          // kStep only
  std::int64_t step = -1;  // step, checkpoint step, or GPU count for kAllocated/kJobStart
  std::int32_t rank = 0;
  std::int32_t attempt = 0;  // 0: not given (inferred from the attempt_start before it)
  std::uint32_t file = 0;    // index into EventLog::files
  std::uint32_t name = 0;    // phase name, fault cause, job status, attempt-end reason (interned)
  std::uint32_t layer = 0;   // fault layer (interned)
  std::uint32_t ranks = 0;   // fault: affected ranks as text (interned)
  std::uint64_t line = 0;
  Kind kind = Kind::kStep;
};

struct Warning {
  std::string where;  // "file:line" or "" for the whole log
  std::string message;
};

struct RankSkew {
  std::int32_t rank = 0;
  std::size_t matched_steps = 0;
  double offset_s = 0;  // median(t_rank - t_reference) over the same steps
};

struct EventLog {
  std::vector<std::string> files;
  std::vector<std::string> strings{""};  // interned; 0 is the empty string
  std::vector<Event> events;             // sorted by time (ties: file, line)
  std::vector<Warning> warnings;         // the first kMaxWarnings; counts below are complete
  std::size_t warnings_total = 0;
  std::size_t lines = 0, events_total = 0, events_kept = 0, skipped_lines = 0;
  std::int32_t reference_rank = 0;
  std::vector<std::int32_t> ranks_seen;
  std::vector<RankSkew> skew;
  std::map<std::string, std::size_t> unknown_kinds;  // kind -> count
  const std::string& str(std::uint32_t id) const { return strings.at(id); }
  std::string where(const Event& e) const;  // "file:line"
};

struct ReadOptions {
  bool lenient = false;  // malformed lines become warnings instead of an InputError
  std::int32_t reference_rank = 0;
  double skew_warn_s = 1.0;  // warn when a rank's clock is off by more than this
  bool correct_skew = true;  // shift job-level events of other ranks by their offset
};

inline constexpr std::size_t kMaxWarnings = 200;

class EventReader {
 public:
  explicit EventReader(ReadOptions opt);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;
  // Reads one file (InputError when unreadable, or on a malformed line unless lenient).
  void read_file(const std::string& path);
  // Parses text as if it were a file named `name` (tests, fuzzing).
  void read_text(const std::string& name, const std::string& text);
  // Sorts, estimates and corrects clock skew, and hands the log over.
  EventLog finish();

 private:
  struct Impl;
  Impl* impl_;
};

// Convenience: read the files and finish.
EventLog read_event_logs(const std::vector<std::string>& paths, const ReadOptions& opt);

// "2026-01-02T03:04:05.5Z" (UTC, optional fraction, 'Z' or +hh:mm; none: UTC) or plain decimal
// seconds since the epoch, in years 1970..9999; InputError naming `what` otherwise.
double parse_time(const std::string& text, const std::string& what);
std::string format_utc(double t);  // ISO 8601 with 'Z', milliseconds
// A plain decimal number: [-]digits[.digits][e[+-]digits] (no hex, inf, nan or spaces).
bool is_decimal_number(std::string_view text);

}  // namespace goodput::ledger
