// Building small event logs in tests: one JSON line per call, parsed like a file.
#pragma once
#include <string>

#include "profiler/ledger/events.hpp"

namespace goodput::ledger::test {

// Times in the tests are small offsets from a fixed epoch second (2026-01-01T00:00:00Z).
inline constexpr double kT0 = 1767225600.0;

class LogBuilder {
 public:
  // `fields` is the rest of the JSON object, e.g. "\"step\":3".
  LogBuilder& add(double t, const std::string& kind, const std::string& fields = "", int rank = 0) {
    char b[96];
    std::snprintf(b, sizeof b, "{\"v\":1,\"t\":%.6f,\"kind\":\"", kT0 + t);
    text_ += b + kind + "\",\"rank\":" + std::to_string(rank) + (fields.empty() ? "" : ",") +
             fields + "}\n";
    return *this;
  }
  LogBuilder& step(double start, double end, long long n, int rank = 0) {
    add(start, "step_start", "\"step\":" + std::to_string(n), rank);
    return add(end, "step_end", "\"step\":" + std::to_string(n), rank);
  }
  LogBuilder& span(double b, double e, const std::string& begin_kind, const std::string& end_kind,
                   const std::string& fields) {
    add(b, begin_kind, fields);
    return add(e, end_kind, fields);
  }
  LogBuilder& phase(double b, double e, const std::string& name) {
    return span(b, e, "phase_begin", "phase_end", "\"phase\":\"" + name + "\"");
  }
  LogBuilder& save(double b, double e, long long step) {
    return span(b, e, "checkpoint_save_begin", "checkpoint_save_end",
                "\"step\":" + std::to_string(step));
  }
  LogBuilder& restore(double b, double e, long long step) {
    return span(b, e, "checkpoint_restore_begin", "checkpoint_restore_end",
                "\"step\":" + std::to_string(step));
  }
  LogBuilder& raw(const std::string& line) {
    text_ += line;
    return *this;
  }
  const std::string& text() const { return text_; }
  EventLog parse(ReadOptions opt = {}) const {
    EventReader r(opt);
    r.read_text("test.jsonl", text_);
    return r.finish();
  }

 private:
  std::string text_;
};

}  // namespace goodput::ledger::test
