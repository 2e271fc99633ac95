#include "profiler/ledger/events.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>

#include <simdjson.h>

#include "harness/core/error.hpp"
#include "harness/core/stats.hpp"
#include "profiler/ledger/event_support.hpp"

namespace goodput::ledger {

namespace {

struct KindName {
  Kind kind;
  const char* name;
};
constexpr KindName kKinds[] = {
    {Kind::kJobStart, "job_start"},
    {Kind::kJobEnd, "job_end"},
    {Kind::kAttemptStart, "attempt_start"},
    {Kind::kAttemptEnd, "attempt_end"},
    {Kind::kAllocated, "resources_allocated"},
    {Kind::kReleased, "resources_released"},
    {Kind::kStepStart, "step_start"},
    {Kind::kStepEnd, "step_end"},
    {Kind::kStep, "step"},
    {Kind::kCkptSaveBegin, "checkpoint_save_begin"},
    {Kind::kCkptSaveEnd, "checkpoint_save_end"},
    {Kind::kCkptRestoreBegin, "checkpoint_restore_begin"},
    {Kind::kCkptRestoreEnd, "checkpoint_restore_end"},
    {Kind::kPhaseBegin, "phase_begin"},
    {Kind::kPhaseEnd, "phase_end"},
    {Kind::kFault, "fault"},
};

bool needs_step(Kind k) {
  switch (k) {
    case Kind::kStepStart:
    case Kind::kStepEnd:
    case Kind::kStep:
    case Kind::kCkptSaveBegin:
    case Kind::kCkptSaveEnd:
    case Kind::kCkptRestoreBegin:
    case Kind::kCkptRestoreEnd:
      return true;
    default:
      return false;
  }
}

bool fits_int32(std::int64_t v, std::int64_t lo) {
  return v >= lo && v <= std::numeric_limits<std::int32_t>::max();
}

std::string int_range_error(std::string_view key, std::int64_t v, std::int64_t lo) {
  return "field '" + std::string(key) + "' must be an integer in " + std::to_string(lo) + ".." +
         std::to_string(std::numeric_limits<std::int32_t>::max()) + ", not " + std::to_string(v);
}

// The error for a numeric 't' outside years 1970..9999.
std::string time_field_error(double t) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", t);
  return time_range_error(text, "field 't'");
}

// Where the first JSON value of a line ends (one past its closing bracket), or npos.
std::size_t object_end(std::string_view line) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth <= 0) {
      return depth == 0 ? i + 1 : std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

}  // namespace

const char* kind_name(Kind k) {
  for (const auto& kn : kKinds)
    if (kn.kind == k) return kn.name;
  return "?";
}

std::optional<Kind> kind_from_name(std::string_view name) {
  for (const auto& kn : kKinds)
    if (name == kn.name) return kn.kind;
  return std::nullopt;
}

bool is_job_level(Kind k) {
  switch (k) {
    case Kind::kJobStart:
    case Kind::kJobEnd:
    case Kind::kAttemptStart:
    case Kind::kAttemptEnd:
    case Kind::kAllocated:
    case Kind::kReleased:
    case Kind::kFault:
      return true;
    default:
      return false;
  }
}

std::string EventLog::where(const Event& e) const {
  return (e.file < files.size() ? files[e.file] : std::string("?")) + ":" + std::to_string(e.line);
}

struct EventReader::Impl {
  ReadOptions opt;
  EventLog log;
  simdjson::ondemand::parser parser;
  simdjson::dom::parser validator;  // malformed lines only: is there a whole object first?
  std::unordered_map<std::string, std::uint32_t> interned;
  std::set<std::int32_t> ranks;
  // Step starts of other ranks for the clock-skew estimate: each rank's earliest kSkewSamples.
  std::unordered_map<std::int32_t, std::vector<StepSample>> skew_samples;
  static constexpr std::size_t kSkewSamples = 4096;

  std::uint32_t intern(std::string_view s) {
    if (s.empty()) return 0;
    auto it = interned.find(std::string(s));
    if (it != interned.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(log.strings.size());
    log.strings.emplace_back(s);
    interned.emplace(std::string(s), id);
    return id;
  }

  // Why a line that did not parse holds a whole JSON object followed by more text, or "".
  std::string trailing_content(const std::string& line) {
    const std::size_t end = object_end(line);
    if (end == std::string::npos || line.find_first_not_of(" \t", end) == std::string::npos)
      return "";
    simdjson::dom::element first;
    if (validator.parse(line.data(), end).get(first) || !first.is_object()) return "";
    return std::string("trailing content after the JSON object") +
           (line.find('\0', end) != std::string::npos ? " (NUL bytes)" : "");
  }

  void warn(std::string where, std::string message) {
    ++log.warnings_total;
    if (log.warnings.size() < kMaxWarnings)
      log.warnings.push_back({std::move(where), std::move(message)});
  }

  // A malformed line: an InputError, or a warning when lenient (or when it is the truncated
  // last line a crashed writer leaves behind).
  void malformed(const std::string& where, const std::string& why, bool truncated_tail) {
    if (truncated_tail) {
      ++log.skipped_lines;
      warn(where, "truncated last line (no newline, " + why + "): skipped");
      return;
    }
    if (!opt.lenient)
      throw InputError(where + ": " + why + " (use --lenient to skip malformed lines)");
    ++log.skipped_lines;
    warn(where, why + ": line skipped");
  }

  void read_stream(std::istream& in, const std::string& name) {
    const auto file_index = static_cast<std::uint32_t>(log.files.size());
    log.files.push_back(name);
    std::unordered_map<std::int32_t, std::pair<double, std::uint64_t>> last_by_rank;
    std::string line;
    std::uint64_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      ++log.lines;
      const bool unterminated = in.eof();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // UTF-8 BOM
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto where = [&] { return name + ":" + std::to_string(line_no); };
      std::string why;
      Event ev;
      ev.file = file_index;
      ev.line = line_no;
      std::optional<Kind> kind;
      std::string kind_text;
      bool fatal = false;
      if (!parse_line(line, ev, kind, kind_text, why, fatal)) {
        if (fatal) throw InputError(where() + ": " + why);
        if (const std::string trailing = trailing_content(line); !trailing.empty()) why = trailing;
        malformed(where(), why, unterminated);
        continue;
      }
      ++log.events_total;
      if (!kind) {
        if (log.unknown_kinds[kind_text]++ == 0)
          warn(where(), "unknown event kind '" + kind_text + "': ignored (counted in the summary)");
        continue;
      }
      ranks.insert(ev.rank);
      auto& last = last_by_rank[ev.rank];
      if (last.second != 0 && ev.t < last.first - 1e-6) {
        char b[160];
        std::snprintf(b, sizeof b,
                      "timestamp %.6f is %.3f s earlier than line %llu of the same rank: "
                      "out-of-order line, events are sorted by time",
                      ev.t, last.first - ev.t, static_cast<unsigned long long>(last.second));
        warn(where(), b);
      } else {
        last = {ev.t, line_no};
      }
      if (!is_job_level(*kind) && ev.rank != opt.reference_rank) {
        if (*kind == Kind::kStepStart || *kind == Kind::kStep)
          keep_earliest(skew_samples[ev.rank],
                        {*kind == Kind::kStep ? ev.t - ev.dur : ev.t, ev.step, ev.attempt},
                        kSkewSamples);
        continue;
      }
      log.events.push_back(ev);
    }
  }

  // False with `why` on a malformed line; `fatal` when no --lenient may skip it.
  bool parse_line(std::string& line, Event& ev, std::optional<Kind>& kind, std::string& kind_text,
                  std::string& why, bool& fatal) {
    using namespace simdjson;
    const std::size_t len = line.size();
    line.reserve(len + SIMDJSON_PADDING);
    ondemand::document doc;
    if (auto err = parser.iterate(padded_string_view(line.data(), len, line.capacity())).get(doc)) {
      why = std::string("malformed JSON (") + error_message(err) + ")";
      return false;
    }
    ondemand::object obj;
    if (auto err = doc.get_object().get(obj)) {
      why = std::string("not a JSON object (") + error_message(err) + ")";
      return false;
    }
    bool have_t = false, have_step = false, have_dur = false;
    std::int64_t version = kEventFormatVersion;
    std::string phase, cause, layer, status, reason, ranks_text;
    std::int64_t gpus = -1;
    for (auto field_result : obj) {
      ondemand::field field;
      std::string_view key;
      if (auto err = std::move(field_result).get(field)) {
        why = std::string("malformed JSON (") + error_message(err) + ")";
        return false;
      }
      if (auto err = field.unescaped_key().get(key)) {
        why = std::string("malformed key (") + error_message(err) + ")";
        return false;
      }
      ondemand::value val = field.value();
      auto bad = [&](const char* expected, error_code err) {
        why = "field '" + std::string(key) + "' must be " + expected + " (" + error_message(err) +
              ")";
        return false;
      };
      auto get_str = [&](std::string& out) -> bool {
        std::string_view sv;
        if (auto err = val.get_string().get(sv)) return bad("a string", err);
        out.assign(sv);
        return true;
      };
      auto get_int = [&](std::int64_t& out) -> bool {
        if (auto err = val.get_int64().get(out)) return bad("an integer", err);
        return true;
      };
      if (key == "t") {
        ondemand::json_type type;
        if (auto err = val.type().get(type)) return bad("a number", err);
        if (type == ondemand::json_type::string) {
          std::string text;
          if (!get_str(text)) return false;
          try {
            ev.t = parse_time(text, "field 't'");
          } catch (const InputError& e) {
            why = e.what();
            return false;
          }
        } else if (auto err = val.get_double().get(ev.t)) {
          return bad("seconds since the epoch or an ISO 8601 string", err);
        } else if (!in_time_range(ev.t)) {
          why = time_field_error(ev.t);
          return false;
        }
        have_t = true;
      } else if (key == "kind") {
        if (!get_str(kind_text)) return false;
      } else if (key == "v") {
        if (!get_int(version)) return false;
      } else if (key == "rank") {
        std::int64_t r = 0;
        if (!get_int(r)) return false;
        if (!fits_int32(r, 0)) {
          why = int_range_error(key, r, 0);
          return false;
        }
        ev.rank = static_cast<std::int32_t>(r);
      } else if (key == "attempt") {
        std::int64_t a = 0;
        if (!get_int(a)) return false;
        if (!fits_int32(a, 1)) {
          why = int_range_error(key, a, 1);
          return false;
        }
        ev.attempt = static_cast<std::int32_t>(a);
      } else if (key == "step") {
        if (!get_int(ev.step)) return false;
        have_step = true;
      } else if (key == "dur") {
        if (auto err = val.get_double().get(ev.dur)) return bad("a number of seconds", err);
        have_dur = true;
      } else if (key == "gpus") {
        if (!get_int(gpus)) return false;
      } else if (key == "phase") {
        if (!get_str(phase)) return false;
      } else if (key == "cause") {
        if (!get_str(cause)) return false;
      } else if (key == "layer") {
        if (!get_str(layer)) return false;
      } else if (key == "status") {
        if (!get_str(status)) return false;
      } else if (key == "reason") {
        if (!get_str(reason)) return false;
      } else if (key == "ranks") {
        ondemand::array arr;
        if (auto err = val.get_array().get(arr)) return bad("an array of ranks", err);
        for (auto r : arr) {
          std::int64_t rv = 0;
          if (auto err = r.get_int64().get(rv)) return bad("an array of integer ranks", err);
          if (!ranks_text.empty()) ranks_text += ",";
          ranks_text += std::to_string(rv);
        }
      }
      // Other fields (job name, host, free-form detail) are allowed and ignored.
    }
    // Anything after the object: a second event on the line (a lost newline) would otherwise be
    // dropped without a word. current_location() is an error exactly at the end of the line.
    if (!doc.current_location().error()) {
      why = "trailing content after the JSON object";
      return false;
    }
    if (version != kEventFormatVersion) {
      why = "event format version " + std::to_string(version) +
            " is not supported (this reader: " + std::to_string(kEventFormatVersion) + ")";
      fatal = true;  // a newer format is never guessed at, not even with --lenient
      return false;
    }
    if (!have_t) {
      why = "missing field 't'";
      return false;
    }
    if (kind_text.empty()) {
      why = "missing field 'kind'";
      return false;
    }
    kind = kind_from_name(kind_text);
    if (!kind) return true;
    ev.kind = *kind;
    if (needs_step(*kind) && !have_step) {
      why = std::string("event '") + kind_text + "' needs field 'step'";
      return false;
    }
    if (*kind == Kind::kStep && (!have_dur || ev.dur < 0)) {
      why = "event 'step' needs a non-negative field 'dur'";
      return false;
    }
    if ((*kind == Kind::kPhaseBegin || *kind == Kind::kPhaseEnd) && phase.empty()) {
      why = std::string("event '") + kind_text + "' needs field 'phase'";
      return false;
    }
    if (*kind == Kind::kFault) {
      if (cause.empty()) {
        why = "event 'fault' needs field 'cause'";
        return false;
      }
      if (!layer.empty() && layer != "infra" && layer != "framework" && layer != "model") {
        why = "field 'layer' must be infra, framework or model, not '" + layer + "'";
        return false;
      }
      ev.name = intern(cause);
      ev.layer = intern(layer.empty() ? "infra" : layer);
      ev.ranks = intern(ranks_text);
    } else if (*kind == Kind::kPhaseBegin || *kind == Kind::kPhaseEnd) {
      ev.name = intern(phase);
    } else if (*kind == Kind::kJobEnd) {
      ev.name = intern(status);
    } else if (*kind == Kind::kAttemptEnd) {
      ev.name = intern(reason);
    }
    if ((*kind == Kind::kAllocated || *kind == Kind::kJobStart) && gpus >= 0) ev.step = gpus;
    return true;
  }

  EventLog finish() {
    log.reference_rank = opt.reference_rank;
    log.ranks_seen.assign(ranks.begin(), ranks.end());
    // Clock skew: other ranks' step starts against the reference rank's starts of the same step
    // in the same attempt (see step_differences).
    std::vector<StepSample> ref;
    if (!skew_samples.empty()) {
      for (const auto& e : log.events)
        if (e.rank == opt.reference_rank && (e.kind == Kind::kStepStart || e.kind == Kind::kStep))
          ref.push_back({e.kind == Kind::kStep ? e.t - e.dur : e.t, e.step, e.attempt});
      order_by_step(ref);
    }
    std::unordered_map<std::int32_t, double> offset;
    for (auto& [rank, samples] : skew_samples) {
      const std::vector<double> d = step_differences(std::move(samples), ref);
      RankSkew rs;
      rs.rank = rank;
      rs.matched_steps = d.size();
      if (!d.empty()) rs.offset_s = median(d);
      if (std::abs(rs.offset_s) > opt.skew_warn_s) {
        char b[200];
        std::snprintf(b, sizeof b,
                      "rank %d: clock differs from reference rank %d by %+.3f s (median over %zu "
                      "steps)%s",
                      rank, opt.reference_rank, rs.offset_s, d.size(),
                      opt.correct_skew ? "; its job-level events are shifted by that amount" : "");
        warn("", b);
      }
      if (opt.correct_skew && !d.empty()) offset[rank] = rs.offset_s;
      log.skew.push_back(rs);
    }
    std::sort(log.skew.begin(), log.skew.end(),
              [](const RankSkew& a, const RankSkew& b) { return a.rank < b.rank; });
    if (!offset.empty())
      for (auto& e : log.events)
        if (e.rank != opt.reference_rank) {
          auto it = offset.find(e.rank);
          if (it != offset.end()) e.t -= it->second;
        }
    sort_events(log.events, log.files);
    log.events_kept = log.events.size();
    if (!log.unknown_kinds.empty()) {
      std::string kinds;
      for (const auto& [k, n] : log.unknown_kinds)
        kinds += (kinds.empty() ? "" : ", ") + k + " x" + std::to_string(n);
      warn("", "unknown event kinds ignored: " + kinds);
    }
    return std::move(log);
  }
};

EventReader::EventReader(ReadOptions opt) : impl_(new Impl) {
  impl_->opt = opt;
}
EventReader::~EventReader() {
  delete impl_;
}

void EventReader::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the event log");
  impl_->read_stream(in, path);
  if (in.bad()) throw InputError(path + ": read error");
}

void EventReader::read_text(const std::string& name, const std::string& text) {
  std::istringstream in(text);
  impl_->read_stream(in, name);
}

EventLog EventReader::finish() {
  return impl_->finish();
}

EventLog read_event_logs(const std::vector<std::string>& paths, const ReadOptions& opt) {
  EventReader r(opt);
  for (const auto& p : paths) r.read_file(p);
  return r.finish();
}

}  // namespace goodput::ledger
