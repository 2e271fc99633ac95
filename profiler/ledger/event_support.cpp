#include "profiler/ledger/event_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <queue>
#include <string_view>
#include <tuple>

#include "harness/core/error.hpp"

namespace goodput::ledger {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

// Seconds since the epoch a log may hold: years 1970 to 9999.
constexpr double kMaxTime = 253402300800.0;  // 10000-01-01T00:00:00Z

// Exactly n digits at s[i], as a number; -1 otherwise.
int fixed_digits(std::string_view s, std::size_t& i, int n) {
  int v = 0;
  for (int k = 0; k < n; ++k, ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool expect_char(std::string_view s, std::size_t& i, char c) {
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  return true;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// "YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm|-hh:mm]" (no zone: UTC); nullopt when malformed.
std::optional<double> parse_iso(std::string_view s) {
  std::size_t i = 0;
  const int y = fixed_digits(s, i, 4);
  if (y < 0 || !expect_char(s, i, '-')) return std::nullopt;
  const int mo = fixed_digits(s, i, 2);
  if (mo < 1 || mo > 12 || !expect_char(s, i, '-')) return std::nullopt;
  const int d = fixed_digits(s, i, 2);
  if (d < 1 || d > days_in_month(y, mo) || !expect_char(s, i, 'T')) return std::nullopt;
  const int h = fixed_digits(s, i, 2);
  if (h < 0 || h > 23 || !expect_char(s, i, ':')) return std::nullopt;
  const int mi = fixed_digits(s, i, 2);
  if (mi < 0 || mi > 59 || !expect_char(s, i, ':')) return std::nullopt;
  const std::size_t sec_begin = i;
  const int sec = fixed_digits(s, i, 2);
  if (sec < 0 || sec > 60) return std::nullopt;  // 60: a leap second
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t frac_begin = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == frac_begin) return std::nullopt;
  }
  const double seconds =
      std::strtod(std::string(s.substr(sec_begin, i - sec_begin)).c_str(), nullptr);
  double offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const double sign = s[i++] == '+' ? 1 : -1;
    const int oh = fixed_digits(s, i, 2);
    if (oh < 0 || oh > 23 || !expect_char(s, i, ':')) return std::nullopt;
    const int om = fixed_digits(s, i, 2);
    if (om < 0 || om > 59) return std::nullopt;
    offset = sign * (oh * 3600.0 + om * 60.0);
  }
  if (i != s.size()) return std::nullopt;
  const long long days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + seconds - offset;
}

// At equal times, files are merged by the kind of their next event: ends before attempt
// boundaries before starts, so a step that ends at t precedes the next attempt's start at t, and
// that start precedes its first step. Within one file the writer's line order is kept.
int tie_group(Kind k) {
  switch (k) {
    case Kind::kJobStart:
      return 0;
    case Kind::kStepEnd:
    case Kind::kStep:
    case Kind::kPhaseEnd:
    case Kind::kCkptSaveEnd:
    case Kind::kCkptRestoreEnd:
      return 1;
    case Kind::kFault:
      return 2;
    case Kind::kAttemptEnd:
      return 3;
    case Kind::kReleased:
      return 4;
    case Kind::kAllocated:
      return 5;
    case Kind::kAttemptStart:
      return 6;
    case Kind::kPhaseBegin:
    case Kind::kCkptSaveBegin:
    case Kind::kCkptRestoreBegin:
      return 7;
    case Kind::kStepStart:
      return 8;
    case Kind::kJobEnd:
      return 9;
  }
  return 10;
}

bool earlier(const StepSample& a, const StepSample& b) {
  return std::tie(a.t, a.attempt, a.step) < std::tie(b.t, b.attempt, b.step);
}

bool step_less(const StepSample& a, const StepSample& b) {
  return std::tie(a.attempt, a.step) < std::tie(b.attempt, b.step);
}

}  // namespace

bool in_time_range(double t) {
  return t >= 0 && t < kMaxTime;
}

std::string time_range_error(const std::string& text, const std::string& what) {
  return what + ": '" + text +
         "' is outside years 1970..9999 (0 .. 253402300800 seconds since the epoch)";
}

bool is_decimal_number(std::string_view s) {
  std::size_t i = 0, digits = 0;
  auto run = [&] {
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++n;
    return n;
  };
  if (i < s.size() && s[i] == '-') ++i;
  digits += run();
  if (i < s.size() && s[i] == '.') {
    ++i;
    digits += run();
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (run() == 0) return false;
  }
  return i == s.size();
}

double parse_time(const std::string& text, const std::string& what) {
  if (text.empty()) throw InputError(what + ": empty time");
  double t = 0;
  if (is_decimal_number(text)) {
    t = std::strtod(text.c_str(), nullptr);
  } else if (auto iso = parse_iso(text)) {
    t = *iso;
  } else {
    throw InputError(what + ": '" + text +
                     "' is neither seconds since the epoch nor an ISO 8601 time "
                     "(2026-01-02T03:04:05Z)");
  }
  if (!in_time_range(t)) throw InputError(time_range_error(text, what));
  return t;
}

std::string format_utc(double t) {
  const double whole = std::floor(t);
  const auto secs = static_cast<std::time_t>(whole);
  int ms = static_cast<int>(std::lround((t - whole) * 1000.0));
  std::time_t adj = secs;
  if (ms >= 1000) {
    ms -= 1000;
    ++adj;
  }
  std::tm tm{};
  gmtime_r(&adj, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

void keep_earliest(std::vector<StepSample>& heap, const StepSample& s, std::size_t max) {
  if (heap.size() < max) {
    heap.push_back(s);
    std::push_heap(heap.begin(), heap.end(), earlier);
  } else if (earlier(s, heap.front())) {
    std::pop_heap(heap.begin(), heap.end(), earlier);
    heap.back() = s;
    std::push_heap(heap.begin(), heap.end(), earlier);
  }
}

void order_by_step(std::vector<StepSample>& starts) {
  std::sort(starts.begin(), starts.end(), [](const StepSample& a, const StepSample& b) {
    return std::tie(a.attempt, a.step, a.t) < std::tie(b.attempt, b.step, b.t);
  });
}

std::vector<double> step_differences(std::vector<StepSample> rank,
                                     const std::vector<StepSample>& reference) {
  order_by_step(rank);
  std::vector<double> d;
  for (std::size_t i = 0; i < rank.size();) {
    auto [ref, ref_end] = std::equal_range(reference.begin(), reference.end(), rank[i], step_less);
    const StepSample first = rank[i];
    for (; i < rank.size() && !step_less(first, rank[i]); ++i)
      if (ref != ref_end) d.push_back(rank[i].t - (ref++)->t);
  }
  return d;
}

void sort_events(std::vector<Event>& ev, const std::vector<std::string>& files) {
  std::sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) {
    return std::tie(a.file, a.t, a.line) < std::tie(b.file, b.t, b.line);
  });
  if (files.size() < 2) return;
  std::vector<std::uint32_t> by_name(files.size()), name_rank(files.size());
  for (std::uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
  std::stable_sort(by_name.begin(), by_name.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return files[a] < files[b]; });
  for (std::uint32_t r = 0; r < by_name.size(); ++r) name_rank[by_name[r]] = r;
  // One run per file, merged through a heap of the runs' next events.
  struct Run {
    std::size_t next, end;
  };
  std::vector<Run> runs;
  for (std::size_t i = 0; i < ev.size();) {
    std::size_t j = i;
    while (j < ev.size() && ev[j].file == ev[i].file) ++j;
    runs.push_back({i, j});
    i = j;
  }
  auto later = [&](std::size_t x, std::size_t y) {
    const Event& a = ev[runs[x].next];
    const Event& b = ev[runs[y].next];
    return std::make_tuple(a.t, tie_group(a.kind), name_rank[a.file]) >
           std::make_tuple(b.t, tie_group(b.kind), name_rank[b.file]);
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heads(later);
  for (std::size_t r = 0; r < runs.size(); ++r) heads.push(r);
  std::vector<Event> merged;
  merged.reserve(ev.size());
  while (!heads.empty()) {
    const std::size_t r = heads.top();
    heads.pop();
    merged.push_back(ev[runs[r].next++]);
    if (runs[r].next < runs[r].end) heads.push(r);
  }
  ev = std::move(merged);
}

}  // namespace goodput::ledger
