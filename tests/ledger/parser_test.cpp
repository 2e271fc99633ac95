// The event-log reader: every bad input named by file and line, deterministic handling of the
// faults a real log has (truncated tail, out-of-order lines, unknown kinds, skewed clocks).
#include "profiler/ledger/events.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"
#include "tests/ledger/test_log.hpp"

using namespace goodput;
using namespace goodput::ledger;
using goodput::ledger::test::kT0;
using goodput::ledger::test::LogBuilder;

namespace {

std::string error_of(const std::string& text, ReadOptions opt = {}) {
  try {
    EventReader r(opt);
    r.read_text("log.jsonl", text);
    r.finish();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool has_warning(const EventLog& log, const std::string& part) {
  for (const auto& w : log.warnings)
    if ((w.where + ": " + w.message).find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(EventParser, ReadsEveryKind) {
  LogBuilder b;
  b.add(0, "job_start", "\"gpus\":16,\"job\":\"llama\"")
      .add(1, "resources_allocated", "\"gpus\":16")
      .add(2, "attempt_start", "\"attempt\":1")
      .phase(2, 3, "init")
      .step(3, 4, 1)
      .add(5, "step", "\"step\":2,\"dur\":1")
      .save(5, 6, 2)
      .restore(6, 7, 2)
      .add(8, "fault", "\"cause\":\"xid\",\"layer\":\"infra\",\"ranks\":[1,5]")
      .add(9, "attempt_end", "\"reason\":\"preempted\"")
      .add(9, "resources_released")
      .add(10, "job_end", "\"status\":\"ok\"");
  const auto log = b.parse();
  EXPECT_EQ(log.events_total, 16u);
  EXPECT_EQ(log.events.size(), 16u);
  EXPECT_EQ(log.warnings_total, 0u);
  EXPECT_EQ(log.events.front().kind, Kind::kJobStart);
  EXPECT_EQ(log.events.front().step, 16);  // gpus
  EXPECT_DOUBLE_EQ(log.events.front().t, kT0);
  const auto& fault = log.events[12];  // sorted by time: the event at t = 8
  EXPECT_EQ(fault.kind, Kind::kFault);
  EXPECT_EQ(log.str(fault.name), "xid");
  EXPECT_EQ(log.str(fault.ranks), "1,5");
}

TEST(EventParser, MalformedLineNamesFileAndLine) {
  const std::string text = LogBuilder().add(0, "attempt_start").text() + "{\"v\":1,\"t\":1,\n" +
                           LogBuilder().add(2, "job_end").text();
  const std::string e = error_of(text);
  EXPECT_NE(e.find("log.jsonl:2"), std::string::npos) << e;
  EXPECT_NE(e.find("--lenient"), std::string::npos) << e;
}

TEST(EventParser, LenientSkipsMalformedLinesWithAWarning) {
  const std::string text = LogBuilder().add(0, "attempt_start").text() + "not json\n" +
                           LogBuilder().add(2, "job_end").text();
  ReadOptions opt;
  opt.lenient = true;
  EventReader r(opt);
  r.read_text("log.jsonl", text);
  const auto log = r.finish();
  EXPECT_EQ(log.skipped_lines, 1u);
  EXPECT_EQ(log.events.size(), 2u);
  EXPECT_TRUE(has_warning(log, "log.jsonl:2"));
}

TEST(EventParser, TruncatedLastLineIsAWarningNotAnError) {
  const std::string text = LogBuilder().add(0, "attempt_start").text() + "{\"v\":1,\"t\":17672";
  EventReader r({});
  r.read_text("log.jsonl", text);
  const auto log = r.finish();
  EXPECT_EQ(log.events.size(), 1u);
  EXPECT_TRUE(has_warning(log, "truncated last line"));
}

TEST(EventParser, MissingOrBadFieldsAreNamed) {
  EXPECT_NE(error_of("{\"v\":1,\"kind\":\"job_end\"}\n").find("missing field 't'"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1}\n").find("missing field 'kind'"), std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"step_start\"}\n").find("needs field 'step'"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":\"x\",\"kind\":\"job_end\"}\n").find("ISO 8601"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":2,\"t\":1,\"kind\":\"job_end\"}\n").find("version 2"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"fault\",\"cause\":\"x\",\"layer\":\"gpu\"}\n")
                .find("layer"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"step_start\",\"step\":\"3\"}\n").find("'step'"),
            std::string::npos);
  EXPECT_NE(error_of("[1,2]\n").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"job_end\"} x\n").find("log.jsonl:1"),
            std::string::npos);
}

// Two events on one line (a lost newline) or a stray brace after the object: an error naming the
// line, never a second event dropped without a word.
TEST(EventParser, TrailingContentAfterTheObjectIsAnError) {
  const std::string first = "{\"v\":1,\"t\":1,\"kind\":\"attempt_start\",\"attempt\":1}";
  const std::string second = "{\"v\":1,\"t\":2,\"kind\":\"job_end\"}";
  for (const std::string& line :
       {first + second, first + "," + second, first + "}", first + "\"v\":1,\"t\":2}"}) {
    const std::string e = error_of(line + "\n");
    EXPECT_NE(e.find("log.jsonl:1: trailing content after the JSON object"), std::string::npos)
        << line << " -> " << e;
  }
  EXPECT_EQ(error_of(first + "  \n"), "");  // trailing spaces are fine
}

TEST(EventParser, UnknownKindsAreCountedAndIgnored) {
  LogBuilder b;
  b.add(0, "attempt_start").add(1, "gpu_temperature", "\"c\":80").add(2, "gpu_temperature");
  const auto log = b.parse();
  EXPECT_EQ(log.events.size(), 1u);
  EXPECT_EQ(log.unknown_kinds.at("gpu_temperature"), 2u);
  EXPECT_TRUE(has_warning(log, "test.jsonl:2"));
}

TEST(EventParser, OutOfOrderLinesAreSortedWithAWarning) {
  LogBuilder b;
  b.add(0, "attempt_start").add(20, "step_start", "\"step\":2").add(10, "step_start", "\"step\":1");
  const auto log = b.parse();
  ASSERT_EQ(log.events.size(), 3u);
  EXPECT_EQ(log.events[1].step, 1);
  EXPECT_TRUE(has_warning(log, "test.jsonl:3"));
}

TEST(EventParser, OtherRanksKeepOnlyJobLevelEvents) {
  LogBuilder b;
  b.add(0, "attempt_start").step(1, 2, 1).step(1.5, 2.5, 1, 3);
  b.add(3, "fault", "\"cause\":\"x\"", 3);
  const auto log = b.parse();
  EXPECT_EQ(log.events_total, 6u);
  EXPECT_EQ(log.events.size(), 4u);  // attempt_start, rank 0's step, the fault
  ASSERT_EQ(log.skew.size(), 1u);
  EXPECT_NEAR(log.skew[0].offset_s, 0.5, 1e-9);
  EXPECT_NEAR(log.events.back().t, kT0 + 2.5, 1e-9);  // the fault, shifted back by the skew
}

TEST(EventParser, ParseTime) {
  EXPECT_DOUBLE_EQ(parse_time("2026-01-01T00:00:00Z", "t"), kT0);
  EXPECT_DOUBLE_EQ(parse_time("2026-01-01T01:00:00.5+01:00", "t"), kT0 + 0.5);
  EXPECT_DOUBLE_EQ(parse_time("1767225600.25", "t"), kT0 + 0.25);
  EXPECT_THROW(parse_time("yesterday", "--from"), InputError);
  EXPECT_EQ(format_utc(kT0 + 0.5), "2026-01-01T00:00:00.500Z");
}

TEST(EventParser, MissingFileIsAnInputError) {
  EXPECT_THROW(read_event_logs({"/nonexistent/events.jsonl"}, {}), InputError);
}

// The clock-skew sample of a rank is its earliest step starts whatever the file order: rank 1's
// attempt 2 (read first) and attempt 1 each run steps 1..4200 on rank 0's clock, no 'attempt'
// fields. The earliest 4096 starts are attempt 1's, each paired with rank 0's first run: offset 0.
TEST(EventParser, ClockSkewSampleIsTheEarliestStepsInAnyFileOrder) {
  constexpr int kSteps = 4200;
  LogBuilder r0, r1_first, r1_second;
  for (int a = 0; a < 2; ++a) {
    r0.add(10000.0 * a, "attempt_start");
    for (int s = 1; s <= kSteps; ++s) {
      const double t = 10000.0 * a + s;
      r0.add(t, "step_start", "\"step\":" + std::to_string(s));
      (a == 1 ? r1_first : r1_second).add(t, "step_start", "\"step\":" + std::to_string(s), 1);
    }
  }
  EventReader r({});
  r.read_text("rank0.jsonl", r0.text());
  r.read_text("rank1_attempt2.jsonl", r1_first.text());
  r.read_text("rank1_attempt1.jsonl", r1_second.text());
  const auto log = r.finish();
  ASSERT_EQ(log.skew.size(), 1u);
  EXPECT_EQ(log.skew[0].matched_steps, 4096u);
  EXPECT_NEAR(log.skew[0].offset_s, 0, 1e-9);
  EXPECT_FALSE(has_warning(log, "clock differs"));
}

// Equal times across files: ends first, then attempt boundaries, then starts, whatever the file
// order (step_end 1 and step_start 2 at 10 s; attempt_start before step_start). Within a file the
// line order stands: a zero-length restore (20 s) and step (30 s) keep begin before end.
TEST(EventParser, EqualTimesAreOrderedByKindThenFileAndLine) {
  const std::string x = "{\"v\":1,\"t\":10,\"kind\":\"step_start\",\"step\":2}\n";
  const std::string y =
      "{\"v\":1,\"t\":10,\"kind\":\"step_end\",\"step\":1}\n"
      "{\"v\":1,\"t\":10,\"kind\":\"attempt_start\"}\n"
      "{\"v\":1,\"t\":20,\"kind\":\"checkpoint_restore_begin\",\"step\":1}\n"
      "{\"v\":1,\"t\":20,\"kind\":\"checkpoint_restore_end\",\"step\":1}\n"
      "{\"v\":1,\"t\":30,\"kind\":\"step_start\",\"step\":3}\n"
      "{\"v\":1,\"t\":30,\"kind\":\"step_end\",\"step\":3}\n";
  for (bool x_first : {true, false}) {
    EventReader r({});
    r.read_text(x_first ? "x.jsonl" : "y.jsonl", x_first ? x : y);
    r.read_text(x_first ? "y.jsonl" : "x.jsonl", x_first ? y : x);
    const auto log = r.finish();
    ASSERT_EQ(log.events.size(), 7u);
    const Kind want[] = {Kind::kStepEnd,          Kind::kAttemptStart,   Kind::kStepStart,
                         Kind::kCkptRestoreBegin, Kind::kCkptRestoreEnd, Kind::kStepStart,
                         Kind::kStepEnd};
    for (std::size_t i = 0; i < 7; ++i) EXPECT_EQ(log.events[i].kind, want[i]) << i;
    EXPECT_EQ(log.files[log.events[2].file], "x.jsonl");
  }
}

TEST(EventParser, ByteOrderMarkIsSkipped) {
  const std::string text = "\xEF\xBB\xBF" + LogBuilder().add(0, "attempt_start").text();
  EXPECT_EQ(error_of(text), "");
}

TEST(EventParser, TrailingTextOrNulAfterTheObjectIsNamed) {
  const std::string obj = "{\"v\":1,\"t\":1,\"kind\":\"job_end\"}";
  for (const std::string& line : {obj + " x", obj + " 1", obj + "]", obj + std::string(1, '\0'),
                                  obj + std::string(3, '\0')}) {
    const std::string e = error_of(line + "\n");
    EXPECT_NE(e.find("log.jsonl:1: trailing content after the JSON object"), std::string::npos)
        << e;
  }
  EXPECT_NE(error_of(obj + std::string(1, '\0') + "\n").find("NUL"), std::string::npos);
  // Broken JSON inside the object is still named as such.
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\"} x\n").find("malformed"), std::string::npos);
}

TEST(EventParser, TimesOutsideYears1970To9999AreErrors) {
  for (const char* t : {"1e300", "-1", "253402300800"}) {
    const std::string e = error_of(std::string("{\"v\":1,\"t\":") + t + ",\"kind\":\"job_end\"}\n");
    EXPECT_NE(e.find("log.jsonl:1: field 't'"), std::string::npos) << t << " -> " << e;
    EXPECT_NE(e.find("1970"), std::string::npos) << e;
  }
  EXPECT_EQ(error_of("{\"v\":1,\"t\":253402300799,\"kind\":\"job_end\"}\n"), "");
  EXPECT_THROW(parse_time("1e300", "--to"), InputError);
}

TEST(EventParser, MalformedTimesAreErrors) {
  for (const char* t :
       {"2026-01-01T-1:-5:00Z", "2026-01-01T00:00:00+01:00junk", "0x10", " 12", "12 ", "1.5.2",
        "2026-1-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T00:00:61Z", "2026-01-01T00:00Z",
        "2026-01-01T00:00:00+1:00", "2026-01-01T00:00:00.Z", "+2026-01-01T00:00:00Z", "inf"})
    EXPECT_THROW(parse_time(t, "t"), InputError) << t;
  EXPECT_DOUBLE_EQ(parse_time("2026-01-01T00:00:00", "t"), kT0);
  EXPECT_DOUBLE_EQ(parse_time("2025-12-31T23:00:00-01:00", "t"), kT0);
  EXPECT_DOUBLE_EQ(parse_time("1.7672256e9", "t"), kT0);
  EXPECT_DOUBLE_EQ(parse_time("2028-02-29T00:00:00Z", "t"), kT0 + (365 + 365 + 31 + 28) * 86400.0);
}

TEST(EventParser, IntegersOutOfRangeAreErrors) {
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"job_end\",\"rank\":4294967296}\n").find("'rank'"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"job_end\",\"rank\":-1}\n").find("'rank'"),
            std::string::npos);
  EXPECT_NE(error_of("{\"v\":1,\"t\":1,\"kind\":\"attempt_start\",\"attempt\":4294967297}\n")
                .find("'attempt'"),
            std::string::npos);
  EXPECT_EQ(error_of("{\"v\":1,\"t\":1,\"kind\":\"job_end\",\"rank\":2147483647}\n"), "");
}

// The format version is never guessed at: a newer one stops the reader even with --lenient.
TEST(EventParser, UnsupportedVersionIsAnErrorEvenWhenLenient) {
  ReadOptions opt;
  opt.lenient = true;
  const std::string e = error_of(
      LogBuilder().add(0, "attempt_start").text() + "{\"v\":2,\"t\":1,\"kind\":\"job_end\"}\n",
      opt);
  EXPECT_NE(e.find("log.jsonl:2: event format version 2"), std::string::npos) << e;
}
