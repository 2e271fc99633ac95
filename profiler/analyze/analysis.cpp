#include "profiler/analyze/analysis.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <sstream>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "harness/core/error.hpp"
#include "harness/core/gpu_spec.hpp"
#include "harness/core/parallel.hpp"
#include "harness/core/stats.hpp"
#include "profiler/analyze/annotate.hpp"
#include "profiler/analyze/classify.hpp"
#include "profiler/analyze/counters.hpp"
#include "profiler/analyze/flops.hpp"
#include "profiler/analyze/hta.hpp"
#include "profiler/analyze/peaks.hpp"
#include "profiler/trace_format/nccl_kernel.hpp"

namespace goodput::analyze {
namespace {

using nlohmann::json;

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}
double sec(std::int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

std::string lower_alnum(const std::string& s) {
  std::string o;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)))
      o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string short_name(const std::string& n, std::size_t max = 70) {
  std::string s = n.rfind("void ", 0) == 0 ? n.substr(5) : n;
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  // Names come from any file: a control character (an escape sequence) must not reach the
  // terminal.
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

json opt_json(const std::optional<double>& v) {
  return v ? json(*v) : json();
}

// MFU of `flops` in `window_s` against each known peak of `dtype`.
json mfu_json(double flops, double window_s, const PeakSet& peaks, const std::string& dtype) {
  json j = json::object();
  if (window_s <= 0 || flops <= 0) return j;
  for (const auto& [src, m] : {std::pair<const char*, const std::map<std::string, double>*>{
                                   "calibrated", &peaks.calibrated},
                               {"datasheet", &peaks.datasheet},
                               {"clock_derived", &peaks.clock}}) {
    auto it = m->find(dtype);
    if (it != m->end() && it->second > 0) j[src] = flops / window_s / it->second;
  }
  return j;
}

json waterfall_json(const Waterfall& w, const std::string& basis, const std::string& peak_src) {
  auto term = [&](const char* name, double s) {
    return json{{"term", name}, {"seconds", s}, {"pct", w.window_s > 0 ? 100 * s / w.window_s : 0}};
  };
  return {{"basis", basis},
          {"peak", peak_src},
          {"step_seconds", w.window_s},
          {"flops_time_at_peak_seconds", w.ideal_s},
          {"terms",
           json::array({term("idle", w.idle_s), term("exposed_communication", w.comm_exposed_s),
                        term("memory_ops", w.memory_s), term("non_matmul_compute", w.non_matmul_s),
                        term("matmul_inefficiency", w.matmul_ineff_s)})},
          {"mfu_pct", 100 * w.mfu()}};
}

struct NcclCall {
  std::string collective, dtype, algorithm, protocol;
  int group = 0;
  double bytes = 0;
  std::int64_t ts = 0, dur = 0;  // ns
};

// The step table's rows (step_rows_shown), elided runs marked, the rows' tags at their ends.
void print_step_rows(std::ostringstream& txt, const std::vector<std::string>& lines,
                     const std::vector<double>& step_seconds, std::size_t warmup,
                     const AnalyzeOptions& opt) {
  const auto rows = step_rows_shown(step_seconds, warmup, opt.step_rows);
  std::size_t next = 0;  // the first step not yet shown or elided
  for (const auto& r : rows) {
    if (r.index > next) txt << "  ... " << r.index - next << " step(s)\n";
    std::string line = lines[r.index];
    if (!r.tag.empty()) line.insert(line.size() - 1, "  <- " + r.tag);
    txt << line;
    next = r.index + 1;
  }
  if (next < lines.size()) txt << "  ... " << lines.size() - next << " step(s)\n";
  if (rows.size() < lines.size())
    txt << "  (" << rows.size() << " of " << lines.size()
        << " steps shown: the steady state's fastest, median and slowest; --full lists every "
           "step, --json has them all)\n";
}

// One rank's steady state, for the cross-rank table (-1: not known).
struct RankRow {
  int rank = 0;
  double step_s = -1, mfu = -1;
  json pct;  // steady_breakdown_pct
};

// The classes that partition a step window exactly, by their JSON names.
constexpr std::pair<const char*, std::int64_t StepBreakdown::*> kBreakdownParts[] = {
    {"gemm", &StepBreakdown::gemm},
    {"attention", &StepBreakdown::attention},
    {"other_compute", &StepBreakdown::other_compute},
    {"comm_exposed", &StepBreakdown::comm_exposed},
    {"memory_ops", &StepBreakdown::memory},
    {"idle_host_launch", &StepBreakdown::idle_launch},
    {"idle_other", &StepBreakdown::idle_other}};

// The classes of work that are not waiting (for the host, or for other ranks at a collective).
constexpr std::pair<const char*, std::int64_t StepBreakdown::*> kBusyParts[] = {
    {"gemm", &StepBreakdown::gemm},
    {"attention", &StepBreakdown::attention},
    {"other_compute", &StepBreakdown::other_compute},
    {"memory_ops", &StepBreakdown::memory}};
using Parts = std::span<const std::pair<const char*, std::int64_t StepBreakdown::*>>;

// Each class of b as % of window ns.
json breakdown_pct(const StepBreakdown& b, std::int64_t window) {
  json out = json::object();
  for (const auto& [name, member] : kBreakdownParts)
    out[name] =
        window > 0 ? 100.0 * static_cast<double>(b.*member) / static_cast<double>(window) : 0.0;
  return out;
}

// The steady steps' time by class, as % of their GPU windows together.
json steady_breakdown_pct(const std::vector<StepBreakdown>& steps, const std::vector<char>& warm) {
  std::int64_t window = 0;
  StepBreakdown sum;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (warm[i]) continue;
    window += steps[i].window();
    for (const auto& [name, member] : kBreakdownParts) sum.*member += steps[i].*member;
  }
  return breakdown_pct(sum, window);
}

// The number that ends a step's name: ProfilerStep#N, step[N], "step N".
std::optional<long long> step_number(const std::string& name) {
  std::size_t end = name.size();
  if (end > 0 && name[end - 1] == ']') --end;
  std::size_t b = end;
  while (b > 0 && std::isdigit(static_cast<unsigned char>(name[b - 1]))) --b;
  if (b == end || end - b > 18) return std::nullopt;
  return std::stoll(name.substr(b, end - b));
}

// Which steps are warm-up, per rank. With several ranks whose steps are all numbered, the job's
// `warmup` lowest step numbers on every rank, so that a rank lacking a step keeps the same
// steady steps as the others; else each rank's first `warmup` steps.
std::vector<std::vector<char>> warmup_masks(const std::vector<const StepAnalysis*>& ranks,
                                            std::size_t warmup) {
  std::vector<std::vector<char>> mask(ranks.size());
  std::set<long long> numbers;
  bool numbered = true;
  std::size_t with_steps = 0;
  for (const StepAnalysis* sa : ranks) {
    with_steps += !sa->steps.empty();
    for (const auto& s : sa->steps) {
      const auto n = step_number(s.name);
      numbered = numbered && n.has_value();
      if (n) numbers.insert(*n);
    }
  }
  const bool by_number = numbered && with_steps > 1;
  std::set<long long> first;  // the job's warm-up step numbers
  for (auto it = numbers.begin(); by_number && it != numbers.end() && first.size() < warmup; ++it)
    first.insert(*it);
  for (std::size_t r = 0; r < ranks.size(); ++r)
    for (std::size_t i = 0; i < ranks[r]->steps.size(); ++i)
      mask[r].push_back(by_number ? first.count(*step_number(ranks[r]->steps[i].name)) > 0
                                  : i < warmup);
  return mask;
}

// Below this spread across ranks (largest minus smallest), a fraction of the median step window
// or at least kNoiseFloorNs, ranks are tied: many traces stamp whole microseconds, and launch
// jitter moves a window by a few.
constexpr double kNoiseFraction = 0.0005;
constexpr std::int64_t kNoiseFloorNs = 5000;

bool within_noise(double spread_s, double median_window_s) {
  return spread_s < std::max(kNoiseFraction * median_window_s, sec(kNoiseFloorNs));
}

// The rank of a step with the largest value (ties: the lowest rank), and the class of `parts` in
// which it exceeds the median rank most; no rank when the spread is within the noise.
struct Leader {
  std::optional<int> rank;
  double value_s = 0, median_s = 0, spread_s = 0;
  json excess = nullptr;  // class -> seconds over the median rank's
  json cause = nullptr;   // the class of the largest excess, "none" when no class exceeds
};

Leader leader(const std::map<int, StepBreakdown>& per, std::int64_t (*value)(const StepBreakdown&),
              Parts parts, double median_window_s) {
  Leader l;
  std::vector<double> v;
  int top = -1;
  std::int64_t top_v = 0;
  for (const auto& [rank, b] : per) {
    v.push_back(sec(value(b)));
    if (top < 0 || value(b) > top_v) {
      top = rank;
      top_v = value(b);
    }
  }
  l.value_s = sec(top_v);
  l.median_s = median(v);
  l.spread_s = l.value_s - *std::min_element(v.begin(), v.end());
  if (within_noise(l.spread_s, median_window_s)) return l;
  l.rank = top;
  const StepBreakdown& sb = per.at(top);
  double cause_excess = 0;
  l.cause = "none";
  l.excess = json::object();
  for (const auto& [pname, member] : parts) {
    std::vector<double> c;
    for (const auto& [rank, b] : per) c.push_back(sec(b.*member));
    const double ex = sec(sb.*member) - median(c);
    l.excess[pname] = ex;
    if (ex > cause_excess) {
      cause_excess = ex;
      l.cause = pname;
    }
  }
  return l;
}

std::int64_t window_of(const StepBreakdown& b) {
  return b.window();
}
// Not waiting: the window less exposed communication (waiting for other ranks) and idle time.
std::int64_t busy_of(const StepBreakdown& b) {
  return b.window() - b.comm_exposed - b.idle();
}

// One step across ranks: the slowest rank by its window, and the rank the others wait for, the
// one with the most busy time (in a synchronous job every rank waits at the collective for it, so
// the windows are equal and its lead shows on the others as exposed communication).
json straggler_json(const std::string& name, const std::map<int, StepBreakdown>& per) {
  std::vector<double> w;
  for (const auto& [rank, b] : per) w.push_back(sec(b.window()));
  const double med = median(w);
  const Leader slow = leader(per, window_of, kBreakdownParts, med);
  const Leader wait = leader(per, busy_of, kBusyParts, med);
  auto rank_json = [](const Leader& l) { return l.rank ? json(*l.rank) : json(); };
  return {{"step", name},
          {"ranks", per.size()},
          {"slowest_rank", rank_json(slow)},
          {"slowest_seconds", slow.value_s},
          {"median_seconds", med},
          {"spread_pct", med > 0 ? 100 * slow.spread_s / med : 0},
          {"excess_over_median_seconds", slow.excess},
          {"cause", slow.cause},
          {"waited_for_rank", rank_json(wait)},
          {"waited_for_busy_seconds", wait.value_s},
          {"median_busy_seconds", wait.median_s},
          {"busy_spread_pct", med > 0 ? 100 * wait.spread_s / med : 0},
          {"waited_for_excess_over_median_seconds", wait.excess},
          {"waited_for_cause", wait.cause}};
}

// The ranks' median steady steps, in row order (-1: not known).
std::vector<double> rank_step_seconds(const std::vector<RankRow>& rows) {
  std::vector<double> step_s;
  for (const auto& r : rows) step_s.push_back(r.step_s);
  return step_s;
}

// "N of M steps" of a rank in a count (rank -> steps).
std::string steps_of(const std::map<int, std::size_t>& count, int rank, std::size_t steps) {
  const auto it = count.find(rank);
  return std::to_string(it == count.end() ? 0 : it->second) + " of " + std::to_string(steps) +
         " steps";
}

// One row per rank (the fastest, median and slowest when there are many), with the number of
// steps in which the rank was the slowest and in which the others waited for it.
void print_rank_rows(std::ostringstream& txt, const std::vector<RankRow>& rows,
                     const std::map<int, std::size_t>& slowest_in,
                     const std::map<int, std::size_t>& waited_for_in, std::size_t steps,
                     const AnalyzeOptions& opt) {
  // The first count's column: as wide as "M of M steps", and two spaces.
  const std::size_t width = steps_of({{0, steps}}, 0, steps).size() + 2;
  auto pad = [&](std::string s) {
    s.resize(std::max(s.size(), width), ' ');
    return s;
  };
  txt << "ranks (steady state: median step; % of the steady steps' GPU time):\n"
      << "  rank    step ms   gemm  attn  other comm-x  mem  idle(launch/other)  MFU    "
      << pad("slowest in") << "waited for in\n";
  std::size_t next = 0;
  const auto shown = step_rows_shown(rank_step_seconds(rows), 0, opt.step_rows);
  for (const auto& sr : shown) {
    if (sr.index > next) txt << "  ... " << sr.index - next << " rank(s)\n";
    next = sr.index + 1;
    const RankRow& r = rows[sr.index];
    auto p = [&](const char* k) { return r.pct.is_object() ? r.pct[k].get<double>() : 0.0; };
    const std::string counts =
        steps ? pad(steps_of(slowest_in, r.rank, steps)) + steps_of(waited_for_in, r.rank, steps)
              : "-";
    char line[320];
    std::snprintf(line, sizeof line,
                  "  %4d %10s %5.1f %5.1f %5.1f %5.1f %5.1f %5.1f (%4.1f/%4.1f)  %-6s %s%s\n",
                  r.rank, r.step_s < 0 ? "-" : fmt("%.3f", r.step_s * 1e3).c_str(), p("gemm"),
                  p("attention"), p("other_compute"), p("comm_exposed"), p("memory_ops"),
                  p("idle_host_launch") + p("idle_other"), p("idle_host_launch"), p("idle_other"),
                  r.mfu < 0 ? "-" : fmt("%.1f%%", 100 * r.mfu).c_str(), counts.c_str(),
                  sr.tag.empty() ? "" : ("  <- " + sr.tag).c_str());
    txt << line;
  }
  if (next < rows.size()) txt << "  ... " << rows.size() - next << " rank(s)\n";
  if (shown.size() < rows.size())
    txt << "  (" << shown.size() << " of " << rows.size()
        << " ranks shown, by median step: fastest, median and slowest; --full lists every "
           "rank)\n";
}

// Ranks as runs: "0-13, 15, 17-28" (ranks in increasing order).
std::string rank_ranges(const std::vector<int>& ranks) {
  std::string out;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(ranks[i]);
    if (j > i) out += "-" + std::to_string(ranks[j]);
    i = j + 1;
  }
  return out;
}

// Each rank's section; of many ranks, only the median and the slowest rank's (by median steady
// step), with the other ranks' notes, so that a big job's report still reads in seconds.
void print_rank_sections(std::ostringstream& txt, const std::vector<std::string>& sections,
                         const std::vector<int>& section_rank, const std::vector<RankRow>& rows,
                         const AnalyzeOptions& opt) {
  constexpr std::size_t kAllUpTo = 8;
  if (opt.step_rows == 0 || sections.size() <= kAllUpTo) {
    for (const auto& s : sections) txt << s;
    return;
  }
  std::map<int, std::string> detail;  // rank -> why its section is shown
  for (const auto& sr : step_rows_shown(rank_step_seconds(rows), 0, 1))
    if (sr.tag == "median" || sr.tag == "slowest") detail[rows[sr.index].rank] = sr.tag;
  std::vector<std::pair<std::string, std::vector<int>>> notes;  // note -> ranks, first seen first
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto it = detail.find(section_rank[i]);
    if (it != detail.end()) {
      txt << "(" << it->second << " rank)\n" << sections[i];
      continue;
    }
    std::istringstream lines(sections[i]);
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind("  note:", 0) != 0) continue;
      auto n =
          std::find_if(notes.begin(), notes.end(), [&](const auto& e) { return e.first == l; });
      if (n == notes.end()) n = notes.insert(notes.end(), {l, {}});
      n->second.push_back(section_rank[i]);
    }
  }
  txt << "(" << sections.size() - detail.size() << " other ranks' sections left out: --full "
      << "prints every rank's, --json has them all)\n";
  if (!notes.empty()) txt << "notes of the other ranks:\n";
  for (const auto& [note, ranks] : notes)
    txt << "  " << (ranks.size() == 1 ? "rank " : "ranks ") << rank_ranges(ranks) << ": "
        << note.substr(std::string_view("  note: ").size()) << "\n";
  txt << "\n";
}

std::string ms_txt(const json& seconds) {
  return fmt("%.3f", seconds.get<double>() * 1e3) + " ms";
}

// One step's line: the slowest rank by its window, then the rank the others waited for.
std::string straggler_line(const json& s) {
  std::string l = "  " + s["step"].get<std::string>() + ": ";
  const std::string spread = "spread " + fmt("%.1f", s["spread_pct"].get<double>()) + " %";
  if (s["slowest_rank"].is_null())
    l += "no slowest rank (" + ms_txt(s["median_seconds"]) + " median, " + spread +
         ", within the noise level)";
  else
    l += "slowest rank " + std::to_string(s["slowest_rank"].get<int>()) + " " +
         ms_txt(s["slowest_seconds"]) + " vs median " + ms_txt(s["median_seconds"]) + " (" +
         spread + "), most excess in " + s["cause"].get<std::string>();
  if (s["waited_for_rank"].is_null())
    return l + "; no rank waited for (busy time within the noise level)\n";
  const double lead =
      s["waited_for_busy_seconds"].get<double>() - s["median_busy_seconds"].get<double>();
  return l + "; waited for rank " + std::to_string(s["waited_for_rank"].get<int>()) + ": busy " +
         ms_txt(s["waited_for_busy_seconds"]) + " vs median " + ms_txt(s["median_busy_seconds"]) +
         " (+" + fmt("%.3f", lead * 1e3) + " ms), most excess in " +
         s["waited_for_cause"].get<std::string>() + "\n";
}

// "rank 3 in 41 of 49, ..." of the five ranks named most often, and the steps named none.
std::string count_line(const char* what, const std::map<int, std::size_t>& count,
                       std::size_t steps) {
  std::vector<std::pair<std::size_t, int>> by_count;
  std::size_t named = 0;
  for (const auto& [rank, n] : count) {
    by_count.emplace_back(n, rank);
    named += n;
  }
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string l = std::string("  ") + what + " per step:";
  if (by_count.empty()) l += " none";
  for (std::size_t k = 0; k < by_count.size() && k < 5; ++k)
    l += std::string(k ? "," : "") + " rank " + std::to_string(by_count[k].second) + " in " +
         std::to_string(by_count[k].first) + " of " + std::to_string(steps);
  if (by_count.size() > 5) l += ", " + std::to_string(by_count.size() - 5) + " more rank(s)";
  const std::size_t tied = steps - named;
  if (tied > 0)
    l += " (" +
         (by_count.empty() ? std::to_string(tied) + " of " + std::to_string(steps)
                           : std::to_string(tied)) +
         (tied == 1 && !by_count.empty() ? " step" : " steps") + " within the noise level)";
  return l + "\n";
}

// Per step the slowest rank and the rank waited for; a long list keeps the steps of largest
// spread, and always ends with how often each rank was named.
void print_stragglers(std::ostringstream& txt, const json& strag,
                      const std::map<int, std::size_t>& slowest_in,
                      const std::map<int, std::size_t>& waited_for_in, std::size_t left_out,
                      const AnalyzeOptions& opt) {
  std::vector<std::size_t> order(strag.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  constexpr std::size_t kWorst = 5;
  const bool all = opt.step_rows == 0 || strag.size() <= opt.step_rows;
  auto spread = [&](std::size_t i) {
    return std::max(strag[i]["spread_pct"].get<double>(),
                    strag[i]["busy_spread_pct"].get<double>());
  };
  if (!all) {  // the kWorst largest spreads, in step order
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return spread(a) > spread(b); });
    order.resize(kWorst);
    std::sort(order.begin(), order.end());
  }
  txt << "stragglers (GPU step time across ranks"
      << (all ? ""
              : ", the " + std::to_string(kWorst) + " steps of largest spread of " +
                    std::to_string(strag.size()) + "; --full lists every step")
      << (left_out ? "; " + std::to_string(left_out) + " step" + (left_out == 1 ? "" : "s") +
                         " left out: not on every rank, or the last of some ranks only"
                   : "")
      << "):\n";
  for (const std::size_t i : order) txt << straggler_line(strag[i]);
  txt << count_line("slowest rank", slowest_in, strag.size())
      << count_line("rank waited for", waited_for_in, strag.size());
}

// Whether the trace's own distributedInfo gave its rank (else read_traces assigned one).
bool rank_in_file(const traceio::RankTrace& t) {
  const auto it = t.dist.raw.is_object() ? t.dist.raw.find("rank") : t.dist.raw.end();
  return it != t.dist.raw.end() && it->is_number_integer() && it->get<long long>() == t.dist.rank;
}

// The job's steps (in its order) that this rank lacks.
std::vector<std::string> missing_steps(const StepAnalysis& sa,
                                       const std::vector<std::string>& job_steps) {
  std::set<std::string> own;
  for (const auto& s : sa.steps) own.insert(s.name);
  std::vector<std::string> out;
  if (own.empty()) return out;  // no steps at all: said elsewhere
  for (const auto& n : job_steps)
    if (!own.count(n)) out.push_back(n);
  return out;
}

// "a, b, c and 4 more"
std::string name_list(const std::vector<std::string>& names, std::size_t max = 3) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += " and " + std::to_string(names.size() - max) + " more";
  return out;
}

}  // namespace

std::vector<StepRow> step_rows_shown(const std::vector<double>& step_seconds, std::size_t warmup,
                                     std::size_t max_rows, std::size_t slowest) {
  const std::size_t n = step_seconds.size();
  std::vector<StepRow> rows;
  if (max_rows == 0 || n <= max_rows) {
    for (std::size_t i = 0; i < n; ++i) rows.push_back({i, ""});
    return rows;
  }
  warmup = std::min(warmup, n);
  std::map<std::size_t, std::string> pick;
  for (std::size_t i = 0; i < std::min<std::size_t>(warmup, 3); ++i) pick[i] = "warm-up";
  std::vector<std::size_t> by_time;  // steady steps, fastest first (ties in step order)
  for (std::size_t i = warmup; i < n; ++i) by_time.push_back(i);
  std::stable_sort(by_time.begin(), by_time.end(),
                   [&](std::size_t a, std::size_t b) { return step_seconds[a] < step_seconds[b]; });
  if (!by_time.empty()) {
    static const char* kNth[] = {"slowest", "2nd slowest", "3rd slowest"};
    for (std::size_t k = 0; k < std::min(slowest, by_time.size()); ++k)
      pick[by_time[by_time.size() - 1 - k]] =
          k < 3 ? kNth[k] : std::to_string(k + 1) + "th slowest";
    pick.try_emplace(by_time[(by_time.size() - 1) / 2], "median");
    pick.try_emplace(by_time.front(), "fastest");
  }
  if (pick.size() == n) {  // the picks cover the table: list it plainly
    for (std::size_t i = 0; i < n; ++i) rows.push_back({i, ""});
    return rows;
  }
  for (const auto& [i, tag] : pick) rows.push_back({i, tag});
  return rows;
}

double busbw_factor(const std::string& collective, int n) {
  if (n <= 0) return 0;
  const std::string c = lower_alnum(collective);
  const double dn = n;
  if (c.find("allreduce") != std::string::npos) return 2 * (dn - 1) / dn;
  // all_gather, reduce_scatter, all_to_all, and gather and scatter (nccl-tests' gather.cu and
  // scatter.cu): each rank's part of the whole buffer crosses a link, the root's own part not.
  if (c.find("gather") != std::string::npos || c.find("scatter") != std::string::npos ||
      c.find("alltoall") != std::string::npos)
    return (dn - 1) / dn;
  return 1;
}

int nccl_dtype_bytes(const std::string& dtype) {
  return trace::dtype_bytes(trace::canonical_dtype(dtype));
}

Waterfall waterfall(const StepBreakdown& s, double flops, double peak) {
  Waterfall w;
  w.window_s = sec(s.window());
  w.ideal_s = peak > 0 ? flops / peak : 0;
  w.idle_s = sec(s.idle());
  w.comm_exposed_s = sec(s.comm_exposed);
  w.memory_s = sec(s.memory);
  w.non_matmul_s = sec(s.other_compute);
  w.matmul_ineff_s = sec(s.gemm + s.attention) - w.ideal_s;
  return w;
}

std::vector<std::vector<KernelClass>> classify_gpu_names(
    const std::vector<const traceio::RankTrace*>& traces, const Classifier& classifier) {
  // Only names of GPU work are classified (a trace's name table is mostly host ops), each
  // distinct name once: ranks share most of theirs.
  std::vector<std::vector<KernelClass>> class_of(traces.size());
  std::vector<const std::string*> distinct;
  std::unordered_map<std::string_view, std::size_t> index;  // name -> its place in distinct
  struct Use {
    std::size_t trace;
    traceio::NameId name;
    std::size_t distinct;
  };
  std::vector<Use> uses;
  for (std::size_t r = 0; r < traces.size(); ++r) {
    const traceio::RankTrace& t = *traces[r];
    class_of[r].assign(t.names.size(), KernelClass::kOther);
    std::vector<char> seen(t.names.size(), 0);
    for (const auto& g : t.gpu) {
      if (seen[g.name]) continue;
      seen[g.name] = 1;
      if (g.kind != traceio::GpuKind::kKernel) {
        class_of[r][g.name] =
            g.kind == traceio::GpuKind::kMemcpy ? KernelClass::kMemcpy : KernelClass::kMemset;
        continue;
      }
      const std::string& n = t.names[g.name];
      const auto [it, added] = index.try_emplace(n, distinct.size());
      if (added) distinct.push_back(&n);
      uses.push_back({r, g.name, it->second});
    }
  }
  // Spread over the cores when there are enough names to pay for the threads.
  std::vector<KernelClass> cls(distinct.size());
  auto one = [&](std::size_t i) { cls[i] = classifier.classify(*distinct[i]); };
  if (distinct.size() >= 32) {
    parallel_for(distinct.size(), one);
  } else {
    for (std::size_t i = 0; i < distinct.size(); ++i) one(i);
  }
  for (const auto& u : uses) class_of[u.trace][u.name] = cls[u.distinct];
  return class_of;
}

std::vector<KernelClass> classify_gpu_names(const traceio::RankTrace& t,
                                            const Classifier& classifier) {
  return std::move(classify_gpu_names(std::vector<const traceio::RankTrace*>{&t}, classifier)[0]);
}

AnalysisSetup prepare_analysis(const AnalyzeOptions& opt) {
  AnalysisSetup s;
  if (!opt.rules_file.empty()) s.classifier.add_rules_file(opt.rules_file);
  s.db = load_default_spec_db();
  return s;
}

AnalysisResult analyze(const std::vector<TraceInput>& inputs, const AnalyzeOptions& opt) {
  return analyze(inputs, opt, prepare_analysis(opt));
}

AnalysisResult analyze(const std::vector<TraceInput>& inputs, const AnalyzeOptions& opt,
                       const AnalysisSetup& setup) {
  const Classifier& classifier = setup.classifier;
  const SpecDb& db = setup.db;
  std::optional<ModelSpec> model;
  std::optional<ModelFlops> mflops;
  if (!opt.model_file.empty()) {
    model = load_model_spec(opt.model_file);
    mflops = model_flops(*model);
  }
  const bool have_model_flops = opt.flops_per_step.has_value() || mflops.has_value();
  const double model_step_flops =
      opt.flops_per_step ? opt.flops_per_step.value() : (mflops ? mflops->flops_per_step : 0.0);
  const std::string model_dtype = model ? canonical_dtype(model->dtype) : "bf16";

  json out;
  std::ostringstream txt;
  out["options"] = {{"step_marker", opt.marker.name.empty() ? "ProfilerStep#N" : opt.marker.name},
                    {"warmup_steps_excluded", opt.warmup_steps},
                    {"peak_file", opt.peak_file},
                    {"model_file", opt.model_file},
                    {"rules_file", opt.rules_file},
                    {"gpu", opt.gpu}};
  if (opt.marker.window_us)
    out["options"]["window_us"] = {opt.marker.window_us->first, opt.marker.window_us->second};
  if (model) out["model"] = {{"spec", to_json(*model)}, {"flops", to_json(*mflops)}};
  if (opt.flops_per_step) out["model"] = {{"flops_per_step_per_gpu", *opt.flops_per_step}};

  json ranks = json::array(), in_json = json::array();
  bool host_columns = false;  // a rank's step table has the tracer's host columns
  std::unique_ptr<AnnotatedTraceWriter> annotated;
  if (!opt.trace_out.empty()) annotated = std::make_unique<AnnotatedTraceWriter>(opt.trace_out);
  std::vector<RankRow> rank_rows;  // the cross-rank table
  // Per step name: rank -> breakdown, for stragglers.
  std::map<std::string, std::map<int, StepBreakdown>> by_step;
  std::vector<std::string> step_order;

  // The heavy per-rank parts, spread over the cores; the loop below reports them in rank order.
  struct RankWork {
    std::vector<KernelClass> class_of;
    HtaBreakdown hta;
    std::string hta_missing;  // why HTA's definitions leave nothing to break down
    std::vector<OpInstance> ops;
    RankSteps steps;
    StepAnalysis sa;
  };
  std::vector<RankWork> work(inputs.size());
  {
    std::vector<const traceio::RankTrace*> traces;
    for (const auto& in : inputs) traces.push_back(in.trace);
    auto class_of = classify_gpu_names(traces, classifier);
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (!inputs[i].trace->gpu.empty()) work[i].class_of = std::move(class_of[i]);
  }
  // Then three independent analyses of each rank as separate items, so that one rank alone
  // still keeps every core busy. Taken in order, longest first (steps, op FLOPs, then the
  // HTA breakdown): on two cores one does the steps while the other does the two others.
  constexpr std::size_t kParts = 3;
  parallel_for(inputs.size() * kParts, [&](std::size_t k) {
    const traceio::RankTrace& t = *inputs[k / kParts].trace;
    if (t.gpu.empty()) return;
    RankWork& w = work[k / kParts];
    switch (k % kParts) {
      case 0:
        w.steps = rank_steps(t, opt.marker);
        w.sa = analyze_steps(t, w.steps.steps, w.class_of, annotated != nullptr);
        break;
      case 1:
        w.ops = link_op_flops(t, [&](traceio::NameId n) {
          return w.class_of[n] == KernelClass::kGemm || w.class_of[n] == KernelClass::kAttention;
        });
        break;
      default:
        // HTA counts only work whose args name a stream: a trace without any (hand-made, or
        // from another tool) still gets goodput's own analysis.
        try {
          w.hta = hta_breakdown(t);
        } catch (const InputError&) {
          w.hta_missing =
              "nothing HTA would count: it counts only events whose args name a stream, before "
              "the last ProfilerStep when there are steps";
        }
    }
  });

  // Warm-up steps per rank, and the steps some ranks lack (not compared across ranks).
  std::vector<const StepAnalysis*> step_analyses;
  for (const auto& w : work) step_analyses.push_back(&w.sa);
  const auto warm = warmup_masks(step_analyses, static_cast<std::size_t>(opt.warmup_steps));
  std::vector<std::string> job_steps;  // every step name of the job, first seen first
  std::set<std::string> job_step_set;
  std::size_t ranks_with_steps = 0;
  // A rank's last step has no next step to end its window (it ends with the step's own work):
  // set against another rank's same step, closed by the next, it would look short.
  std::map<std::string, std::size_t> last_on_ranks;
  for (const auto& w : work) {
    ranks_with_steps += !w.sa.steps.empty();
    if (!w.sa.steps.empty()) ++last_on_ranks[w.sa.steps.back().name];
    for (const auto& s : w.sa.steps)
      if (job_step_set.insert(s.name).second) job_steps.push_back(s.name);
  }

  std::vector<std::string> sections;  // each rank's part of the report, in rank order
  std::vector<int> section_rank;
  for (std::size_t rank_index = 0; rank_index < inputs.size(); ++rank_index) {
    const TraceInput& in = inputs[rank_index];
    const traceio::RankTrace& t = *in.trace;
    if (rank_index > 0) {
      sections.push_back(txt.str());
      txt.str("");
    }
    section_rank.push_back(t.rank());
    const double mb = static_cast<double>(t.bytes) / 1e6;
    in_json.push_back({{"path", t.path},
                       {"format", t.format},
                       {"rank", t.rank()},
                       {"rank_source", rank_in_file(t) ? "file" : "assigned"},
                       {"json_bytes", t.bytes},
                       {"read_seconds", in.read_seconds},
                       {"read_mb_per_s", in.read_seconds > 0 ? mb / in.read_seconds : 0},
                       {"gpu_events", t.gpu.size()},
                       {"cpu_ops", t.ops.size()},
                       {"runtime_calls", t.runtime.size()},
                       {"flow_events", t.flow_events},
                       {"skipped_events", t.skipped_events}});
    if (t.gpu.empty()) {
      if (t.counter_ranges.empty()) {
        std::string why;
        if (t.tracer && !t.tracer->status.empty() && t.tracer->status != "complete")
          why = " (the tracer recorded status \"" + t.tracer->status + "\"" +
                (t.tracer->status_reason.empty() ? "" : ": " + t.tracer->status_reason) + ")";
        throw InputError(t.path + ": no GPU events (kernels, memcpy, memset): nothing to analyse" +
                         why);
      }
      // A counter-only trace (Kineto's CUPTI range profiler): measured FLOPs, no timeline.
      std::string ctext;
      ranks.push_back({{"rank", t.rank()},
                       {"path", t.path},
                       {"hardware_counters", counters_json(t, classifier, opt.top_kernels, &ctext)},
                       {"steps", json::array()},
                       {"steps_note", "no GPU activity events: a hardware-counter trace only"}});
      txt << "rank " << t.rank() << "  " << t.path << "\n"
          << "  note: no GPU activity events (kernels, memcpy, memset): hardware counters only\n"
          << ctext << "\n";
      continue;
    }

    const std::vector<KernelClass>& class_of = work[rank_index].class_of;

    json r;
    r["rank"] = t.rank();
    r["path"] = t.path;
    if (t.dist.world_size > 0) r["world_size"] = t.dist.world_size;
    const PeakSet peaks = resolve_peaks(t, opt.gpu, opt.peak_file, db);
    r["peaks"] = to_json(peaks);

    // HTA-compatible numbers.
    const HtaBreakdown& h = work[rank_index].hta;
    const std::string& hta_missing = work[rank_index].hta_missing;
    r["hta_compatible"] = {{"span_us", h.span_us},
                           {"idle_us", h.idle_us},
                           {"compute_us", h.compute_us},
                           {"non_compute_us", h.non_compute_us},
                           {"idle_pct", h.idle_pct},
                           {"compute_pct", h.compute_pct},
                           {"non_compute_pct", h.non_compute_pct},
                           {"comm_comp_overlap_pct", opt_json(h.comm_comp_overlap_pct)},
                           {"last_profiler_step_dropped", h.last_step_dropped},
                           {"gpu_events_used", h.gpu_events_used},
                           {"gpu_events_dropped", h.gpu_events_dropped},
                           {"cpu_ops_with_stream", h.cpu_ops_with_stream},
                           {"syncs_with_stream", h.syncs_with_stream}};
    if (!hta_missing.empty()) r["hta_compatible"] = {{"note", hta_missing}};

    // FLOPs of GEMM/attention ops.
    const std::vector<OpInstance>& ops = work[rank_index].ops;
    const auto table = shape_table(t, ops);

    // Steps.
    const std::vector<Step>& steps = work[rank_index].steps.steps;
    std::string step_note = work[rank_index].steps.note;
    // Model FLOPs are per step: against a whole trace of several steps they would understate
    // MFU by the number of steps. Executed FLOPs (from the trace's own ops) still apply.
    const bool model_mfu = have_model_flops && !work[rank_index].steps.whole_trace;
    if (have_model_flops && !model_mfu)
      step_note +=
          "; model MFU withheld: the model's FLOPs are per step and the trace's steps are "
          "not marked";
    const std::string marker = effective_marker(t, opt.marker);
    r["step_marker"] = marker.empty() ? "ProfilerStep#N" : marker;
    std::string tracer_note;
    if (t.tracer) {
      r["tracer"] = {{"status", t.tracer->status},
                     {"status_reason", t.tracer->status_reason},
                     {"dropped_records", t.tracer->dropped_records}};
      if (t.tracer->dropped_records > 0)
        tracer_note += "  note: the tracer dropped " + std::to_string(t.tracer->dropped_records) +
                       " records (buffer cap reached): GPU time is undercounted\n";
      if (!t.tracer->status.empty() && t.tracer->status != "complete")
        tracer_note +=
            "  note: trace status " + t.tracer->status +
            (t.tracer->status_reason.empty() ? "" : " (" + t.tracer->status_reason + ")") + "\n";
    }
    const StepAnalysis& sa = work[rank_index].sa;
    const std::vector<char>& is_warm = warm[rank_index];
    const auto warm_steps =
        static_cast<std::size_t>(std::count(is_warm.begin(), is_warm.end(), char{1}));
    std::string rank_notes;
    if (inputs.size() > 1 && !rank_in_file(t))
      rank_notes += "  note: the file names no rank: rank " + std::to_string(t.rank()) +
                    ", the lowest no other file claims\n";
    const auto missing = missing_steps(sa, job_steps);
    if (!missing.empty()) {
      r["missing_steps"] = missing;
      rank_notes += "  note: no " + name_list(missing) +
                    ", which other ranks have: those steps are not compared across ranks\n";
    }
    std::map<std::string, std::map<std::string, double>> step_flops;  // step -> dtype -> flops
    for (const auto& o : ops) {
      const int s = step_at(steps, t.ops[o.op_index].ts);
      if (s >= 0)
        step_flops[steps[static_cast<std::size_t>(s)].name][o.peak_dtype] += o.flops.flops;
    }

    const auto range_flops = flops_by_range_name(t);
    json jsteps = json::array();
    std::vector<double> steady_window, steady_mfu;
    txt << "rank " << t.rank() << "  " << t.path << "\n";
    txt << "  GPU: " << (peaks.device.empty() ? "unknown" : peaks.device)
        << (peaks.spec_name.empty() ? "" : " (" + peaks.spec_name + ")");
    if (auto p = peaks.best(model_dtype))
      txt << ", " << model_dtype << " peak " << fmt("%.1f", p->first / 1e12) << " TFLOP/s ("
          << p->second << ")";
    else
      txt << ", no " << model_dtype << " peak known";
    txt << "\n";
    if (!peaks.note.empty()) txt << "  note: " << peaks.note << "\n";
    if (!step_note.empty()) txt << "  note: " << step_note << "\n";
    txt << rank_notes;
    txt << tracer_note;
    if (!hta_missing.empty())
      txt << "  HTA-compatible: n/a (" << hta_missing << ")\n";
    else
      txt << "  HTA-compatible: idle " << fmt("%.2f", h.idle_pct) << " %, compute "
          << fmt("%.2f", h.compute_pct) << " %, non-compute " << fmt("%.2f", h.non_compute_pct)
          << " %, comm/comp overlap "
          << (h.comm_comp_overlap_pct ? fmt("%.2f", *h.comm_comp_overlap_pct) + " %" : "n/a")
          << "  (span " << fmt("%.3f", static_cast<double>(h.span_us) / 1e3) << " ms"
          << (h.last_step_dropped ? ", last ProfilerStep dropped as HTA does" : "") << ")\n";
    // What the profiler itself reported losing on the host (CUPTI overhead records), per step by
    // start time (Kineto does not say on which thread).
    std::vector<traceio::ProfilerOverhead> overheads = t.overheads;
    std::sort(overheads.begin(), overheads.end(),
              [](const auto& a, const auto& b) { return a.ts < b.ts; });
    std::vector<std::int64_t> overhead_in_step(sa.steps.size(), 0);
    std::vector<int> overhead_step(overheads.size(), -1);
    for (std::size_t i = 0; i < sa.steps.size(); ++i) {
      const std::int64_t a = sa.steps[i].cpu_start, b = a + sa.steps[i].cpu_ns;
      auto it = std::lower_bound(overheads.begin(), overheads.end(), a,
                                 [](const auto& o, std::int64_t v) { return o.ts < v; });
      for (; it != overheads.end() && it->ts < b; ++it) {
        overhead_in_step[i] += it->dur;
        overhead_step[static_cast<std::size_t>(it - overheads.begin())] = static_cast<int>(i);
      }
    }
    if (!overheads.empty()) {
      struct Group {
        std::size_t count = 0;
        std::int64_t total = 0, max = 0;
        int max_step = -1;
      };
      std::map<std::string, Group> groups;
      for (std::size_t k = 0; k < overheads.size(); ++k) {
        Group& gr = groups[t.names[overheads[k].name]];
        ++gr.count;
        gr.total += overheads[k].dur;
        if (overheads[k].dur > gr.max) {
          gr.max = overheads[k].dur;
          gr.max_step = overhead_step[k];
        }
      }
      std::vector<std::pair<std::string, Group>> sorted(groups.begin(), groups.end());
      std::sort(sorted.begin(), sorted.end(),
                [](const auto& x, const auto& y) { return x.second.total > y.second.total; });
      json jo = json::array();
      std::string line = "  profiler overhead (CUPTI, on the host):";
      for (std::size_t k = 0; k < sorted.size(); ++k) {
        const auto& [name, gr] = sorted[k];
        const std::string where =
            gr.max_step >= 0 ? sa.steps[static_cast<std::size_t>(gr.max_step)].name : "";
        jo.push_back({{"name", name},
                      {"count", gr.count},
                      {"total_ms", ms(gr.total)},
                      {"max_ms", ms(gr.max)},
                      {"max_in_step", where.empty() ? json(nullptr) : json(where)}});
        if (k < 4)
          line += (k ? "; " : " ") + name + " " + std::to_string(gr.count) + " x " +
                  fmt("%.1f", ms(gr.total)) + " ms (max " + fmt("%.2f", ms(gr.max)) + " ms" +
                  (where.empty() ? "" : ", " + where) + ")";
      }
      if (sorted.size() > 4) line += "; " + std::to_string(sorted.size() - 4) + " more kinds";
      r["profiler_overhead"] = jo;
      txt << line << "\n";
    }

    // The host's side of each step, when goodput's tracer recorded it (matched by the step
    // range's start): why a launch-bound step was slow (CPU taken by the tracer, or stolen).
    std::vector<const traceio::StepHost*> host_of(sa.steps.size(), nullptr);
    bool any_host = false;
    if (t.tracer && !t.tracer->steps_host.empty()) {
      std::vector<const traceio::StepHost*> by_start;
      for (const auto& hs : t.tracer->steps_host) by_start.push_back(&hs);
      std::sort(by_start.begin(), by_start.end(),
                [](const auto* a, const auto* b) { return a->cpu_start_ns < b->cpu_start_ns; });
      for (std::size_t i = 0; i < sa.steps.size(); ++i) {
        const auto it = std::lower_bound(
            by_start.begin(), by_start.end(), sa.steps[i].cpu_start - 1000,
            [](const traceio::StepHost* e, std::int64_t v) { return e->cpu_start_ns < v; });
        if (it != by_start.end() && (*it)->cpu_start_ns <= sa.steps[i].cpu_start + 1000) {
          host_of[i] = *it;
          any_host = host_columns = true;
        }
      }
    }
    txt << "  step                    cpu ms   gpu ms   gemm  attn  other comm-x  mem  "
           "idle(launch/other)  "
        << (any_host ? "MFU    prog-cpu tracer  steal  isw\n" : "MFU\n");
    std::vector<std::string> step_lines;  // the table's rows, printed after the loop
    std::vector<double> step_seconds;
    for (std::size_t i = 0; i < sa.steps.size(); ++i) {
      const auto& s = sa.steps[i];
      const double w = static_cast<double>(s.window());
      auto pct = [&](std::int64_t v) { return w > 0 ? 100.0 * static_cast<double>(v) / w : 0.0; };
      double exec_flops = 0, exec_time_at_peak = 0;
      bool exec_peaks_known = true;
      json by_dtype = json::object();
      for (const auto& [dt, f] : step_flops[s.name]) {
        exec_flops += f;
        by_dtype[dt.empty() ? "unknown" : dt] = f;
        if (auto p = peaks.best(dt))
          exec_time_at_peak += f / p->first;
        else
          exec_peaks_known = false;
      }
      StepBreakdown sb = s;
      sb.executed_flops = exec_flops;
      json js = {{"name", s.name},
                 {"cpu_ms", ms(s.cpu_ns)},
                 {"gpu_ms", ms(s.window())},
                 {"gpu_window_ns", {s.window_start, s.window_end}},
                 {"kernels", s.kernels},
                 {"comm_kernels", s.comm_kernels},
                 {"breakdown_ms",
                  {{"gemm", ms(s.gemm)},
                   {"attention", ms(s.attention)},
                   {"other_compute", ms(s.other_compute)},
                   {"comm_exposed", ms(s.comm_exposed)},
                   {"comm_overlapped", ms(s.comm_overlapped)},
                   {"memory_ops", ms(s.memory)},
                   {"idle_host_launch", ms(s.idle_launch)},
                   {"idle_other", ms(s.idle_other)}}},
                 {"breakdown_pct", breakdown_pct(s, s.window())},
                 {"executed_flops", exec_flops},
                 {"executed_flops_by_dtype", by_dtype},
                 {"kineto_flops", s.kineto_flops}};
      if (auto m = range_flops.find(s.name); m != range_flops.end() && m->second.any) {
        js["measured_flops"] = m->second.total();  // counter range named like the step
        if (s.window() > 0) js["measured_tflops"] = m->second.total() / sec(s.window()) / 1e12;
      }
      const double ws = sec(s.window());
      std::string mfu_txt = "-";
      if (model_mfu) {
        js["model_flops"] = model_step_flops;
        js["mfu"] = mfu_json(model_step_flops, ws, peaks, model_dtype);
        if (auto p = peaks.best(model_dtype)) {
          const Waterfall wf = waterfall(s, model_step_flops, p->first);
          js["waterfall"] = waterfall_json(wf, "model", p->second);
          mfu_txt = fmt("%.1f%%", 100 * wf.mfu());
          if (!is_warm[i]) steady_mfu.push_back(wf.mfu());
        }
      }
      if (exec_flops > 0 && exec_peaks_known && ws > 0) {
        js["executed_mfu"] = exec_time_at_peak / ws;
        if (!model_mfu) {
          // Without model FLOPs per step, the waterfall explains the executed (HFU-like) FLOPs.
          Waterfall wf = waterfall(s, 0, 0);
          wf.ideal_s = exec_time_at_peak;
          wf.matmul_ineff_s = sec(s.gemm + s.attention) - exec_time_at_peak;
          js["waterfall"] = waterfall_json(wf, "executed", "best known per dtype");
          mfu_txt = fmt("%.1f%%x", 100 * wf.mfu());
        }
      }
      if (!is_warm[i]) steady_window.push_back(ws);
      if (!overheads.empty()) js["profiler_overhead_ms"] = ms(overhead_in_step[i]);
      std::string host_txt;
      if (const traceio::StepHost* hs = host_of[i]) {
        js["host"] = {{"wall_ms", hs->wall_ms},
                      {"process_cpu_ms", hs->process_cpu_ms},
                      {"program_cpu_ms", hs->program_cpu_ms},
                      {"tracer_cpu_ms", hs->tracer_cpu_ms},
                      {"minor_faults", hs->minor_faults},
                      {"involuntary_switches", hs->involuntary_switches},
                      {"steal_ms", opt_json(hs->steal_ms)}};
        char hbuf[96];
        std::snprintf(hbuf, sizeof hbuf, " %8.1f %6.1f %6s %4lld", hs->program_cpu_ms,
                      hs->tracer_cpu_ms, hs->steal_ms ? fmt("%.1f", *hs->steal_ms).c_str() : "-",
                      static_cast<long long>(hs->involuntary_switches));
        host_txt = hbuf;
      } else if (any_host) {
        host_txt = "        -      -      -    -";
      }
      jsteps.push_back(js);
      char line[320];
      std::snprintf(
          line, sizeof line,
          "  %-22s %8.3f %8.3f %5.1f %5.1f %5.1f %5.1f %5.1f %5.1f (%4.1f/%4.1f)  %s\n",
          short_name(s.name, 22).c_str(), ms(s.cpu_ns), ms(s.window()), pct(s.gemm),
          pct(s.attention), pct(s.other_compute), pct(s.comm_exposed), pct(s.memory), pct(s.idle()),
          pct(s.idle_launch), pct(s.idle_other),
          any_host
              ? (mfu_txt + std::string(mfu_txt.size() < 6 ? 6 - mfu_txt.size() : 0, ' ') + host_txt)
                    .c_str()
              : mfu_txt.c_str());
      step_lines.push_back(line);
      step_seconds.push_back(ws);
      if (step_order.end() == std::find(step_order.begin(), step_order.end(), s.name))
        step_order.push_back(s.name);
      by_step[s.name][t.rank()] = sb;
    }
    print_step_rows(txt, step_lines, step_seconds, warm_steps, opt);
    if (annotated) annotated->add_rank(t, class_of, sa, jsteps);
    if (!t.counter_ranges.empty()) {
      std::string ctext;
      r["hardware_counters"] = counters_json(t, classifier, opt.top_kernels, &ctext);
      txt << ctext;
    }
    r["steps"] = jsteps;
    if (!sa.note.empty()) r["steps_note"] = sa.note;
    if (!step_note.empty()) r["steps_note"] = step_note;
    r["gpu_events_outside_steps"] = sa.gpu_events_outside_steps;
    json steady = {{"warmup_steps_excluded", warm_steps}, {"steps", steady_window.size()}};
    if (!steady_window.empty()) {
      const Stats st = summarize(steady_window);
      steady["step_seconds_median"] = st.median;
      steady["step_seconds_mean"] = st.mean;
      if (!steady_mfu.empty()) steady["mfu_median"] = median(steady_mfu);
      txt << "  steady state (" << steady_window.size() << " step(s), first "
          << steady["warmup_steps_excluded"].get<std::size_t>() << " excluded): step "
          << fmt("%.3f", st.median * 1e3) << " ms median";
      if (!steady_mfu.empty()) txt << ", MFU " << fmt("%.1f", 100 * median(steady_mfu)) << " %";
      txt << "\n";
    } else {
      steady["note"] =
          sa.steps.empty()
              ? "no step holds GPU work"
              : "no step left after the first " +
                    std::to_string(steady["warmup_steps_excluded"].get<std::size_t>()) +
                    " warm-up step(s) (--warmup 0 keeps every step)";
      txt << "  steady state: " << steady["note"].get<std::string>() << "\n";
    }
    RankRow rrow{t.rank(),
                 steady_window.empty() ? -1.0 : median(steady_window),
                 steady_mfu.empty() ? -1.0 : median(steady_mfu),
                 {}};
    if (!steady_window.empty()) {
      rrow.pct = steady_breakdown_pct(sa.steps, is_warm);
      steady["breakdown_pct"] = rrow.pct;
    }
    rank_rows.push_back(rrow);
    r["steady_state"] = steady;

    // Kernel classes and top kernels (all GPU work in the trace).
    std::map<std::string, std::pair<std::int64_t, std::size_t>> cls;
    std::map<traceio::NameId, std::pair<std::int64_t, std::size_t>> per_kernel;
    std::vector<NcclCall> nccl;
    std::map<traceio::NameId, trace::NcclKernel> nccl_names;  // each kernel name parsed once
    for (const auto& g : t.gpu) {
      auto& c = cls[to_string(class_of[g.name])];
      c.first += g.dur;
      ++c.second;
      auto& k = per_kernel[g.name];
      k.first += g.dur;
      ++k.second;
      if (class_of[g.name] == KernelClass::kCommunication) {
        NcclCall call;
        auto parsed = nccl_names.find(g.name);
        if (parsed == nccl_names.end())
          parsed =
              nccl_names
                  .emplace(g.name,
                           trace::parse_nccl_kernel(t.names[g.name]).value_or(trace::NcclKernel{}))
                  .first;
        const trace::NcclKernel& nn = parsed->second;
        if (nn.collective.empty()) {
          // Communication outside NCCL: the kernel's own name, without namespace or template.
          std::string b = kernel_base_name(t.names[g.name]);
          b = b.substr(0, b.find('<'));
          const auto colon = b.rfind("::");
          call.collective = colon == std::string::npos ? b : b.substr(colon + 2);
        } else {
          call.collective = nn.collective;
        }
        call.algorithm = nn.algorithm;
        call.protocol = nn.protocol;
        call.dtype = nn.dtype;
        call.ts = g.ts;
        call.dur = g.dur;
        if (const traceio::NcclArgs* na = t.nccl_of(g)) {
          if (!na->collective.empty())
            call.collective = trace::canonical_collective(na->collective);
          if (!na->dtype.empty()) call.dtype = trace::canonical_dtype(na->dtype);
          if (!na->algorithm.empty()) call.algorithm = na->algorithm;
          if (!na->protocol.empty()) call.protocol = na->protocol;
          call.group = na->group_size;
          const int eb = trace::dtype_bytes(call.dtype);
          // nccl-tests sizes: all_gather and gather count the gathered output, others the input
          // buffer (scatter's: the root's whole buffer).
          const bool gathered = call.collective == "all_gather" || call.collective == "gather";
          const std::int64_t ne = gathered ? na->out_nelems : na->in_nelems;
          if (eb > 0 && ne > 0) call.bytes = static_cast<double>(ne) * eb;
        }
        nccl.push_back(call);
      }
    }
    // In time order, whatever the order of the events in the file: a collective's first call
    // names its algorithm and protocol.
    std::stable_sort(nccl.begin(), nccl.end(), [](const NcclCall& a, const NcclCall& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.dur < b.dur;
    });
    json jcls = json::object();
    std::int64_t busy_sum = 0;
    for (const auto& [k, v] : per_kernel) busy_sum += v.first;
    for (const auto& [k, v] : cls) jcls[k] = {{"time_ms", ms(v.first)}, {"count", v.second}};
    r["kernel_classes"] = jcls;
    std::vector<std::pair<traceio::NameId, std::pair<std::int64_t, std::size_t>>> top(
        per_kernel.begin(), per_kernel.end());
    // Ties broken by name: the order of the events in the file does not change the report.
    std::sort(top.begin(), top.end(), [&](const auto& a, const auto& b) {
      if (a.second.first != b.second.first) return a.second.first > b.second.first;
      return t.names[a.first] < t.names[b.first];
    });
    json jtop = json::array();
    txt << "  top kernels (all GPU work in the trace):\n";
    for (std::size_t i = 0; i < top.size() && i < opt.top_kernels; ++i) {
      const auto& [n, v] = top[i];
      const double share =
          busy_sum > 0 ? 100.0 * static_cast<double>(v.first) / static_cast<double>(busy_sum) : 0;
      jtop.push_back({{"name", t.names[n]},
                      {"class", to_string(class_of[n])},
                      {"count", v.second},
                      {"time_ms", ms(v.first)},
                      {"pct_of_kernel_time", share}});
      char line[200];
      std::snprintf(line, sizeof line, "    %5.1f%% %9.3f ms %6zu x  %-13s %s\n", share,
                    ms(v.first), v.second, to_string(class_of[n]), short_name(t.names[n]).c_str());
      txt << line;
    }
    r["top_kernels"] = jtop;

    // NCCL calls: per collective, dtype and group size, with nccl-tests algbw/busbw (whose
    // factor depends on the group size).
    json jn = json::array();
    std::map<std::tuple<std::string, std::string, int>, std::vector<const NcclCall*>> by_coll;
    std::map<std::pair<std::string, std::string>, std::set<int>> groups_of;
    for (const auto& c : nccl) {
      by_coll[{c.collective, c.dtype, c.group}].push_back(&c);
      groups_of[{c.collective, c.dtype}].insert(c.group);
    }
    for (const auto& [key, calls] : by_coll) {
      std::int64_t t_sum = 0;  // ns: exact in any order
      double bytes_sum = 0, busbw_max = 0;
      std::vector<double> busbw, algbw;
      for (const auto* c : calls) {
        t_sum += c->dur;
        bytes_sum += c->bytes;
        if (c->bytes > 0 && c->dur > 0 && c->group > 0) {
          const double ab = c->bytes / sec(c->dur) / 1e9;
          const double bb = ab * busbw_factor(c->collective, c->group);
          algbw.push_back(ab);
          busbw.push_back(bb);
          busbw_max = std::max(busbw_max, bb);
        }
      }
      json e = {{"collective", calls.front()->collective},
                {"dtype", calls.front()->dtype},
                {"algorithm", calls.front()->algorithm},
                {"protocol", calls.front()->protocol},
                {"calls", calls.size()},
                {"time_ms", ms(t_sum)},
                {"bytes", bytes_sum},
                {"group_size", calls.front()->group}};
      if (!busbw.empty()) {
        e["busbw_gbps_median"] = median(busbw);
        e["busbw_gbps_max"] = busbw_max;
        e["algbw_gbps_median"] = median(algbw);
      }
      jn.push_back(e);
    }
    r["communication"] = jn;
    if (!jn.empty()) {
      txt << "  communication:\n";
      for (const auto& e : jn) {
        const std::string coll = e["collective"], dtype = e["dtype"];
        const std::string over =
            groups_of[{coll, dtype}].size() > 1
                ? " over " + std::to_string(e["group_size"].get<int>()) + " ranks"
                : "";
        txt << "    " << coll << " " << dtype << over << ": " << e["calls"].get<std::size_t>()
            << " calls, " << fmt("%.3f", e["time_ms"].get<double>()) << " ms";
        if (e.contains("busbw_gbps_median"))
          txt << ", busbw " << fmt("%.2f", e["busbw_gbps_median"].get<double>()) << " GB/s median";
        txt << "\n";
      }
    }

    // GEMM / attention shape table.
    json jt = json::array();
    for (const auto& row : table) {
      json e = {{"op", row.op},
                {"kind", row.kind},
                {"dtype", row.dtype},
                {"batch", row.batch},
                {"M", row.m},
                {"N", row.n},
                {"K", row.k},
                {"calls", row.calls},
                {"gflops_per_call", row.gflops_per_call},
                {"kernel_us_mean", row.kernel_us_mean},
                {"kernel_us_sum", row.kernel_us_sum},
                {"tflops_mean", row.tflops_mean},
                {"tflops_total", row.tflops_total},
                {"kernel", row.kernel}};
      if (auto p = peaks.best(row.dtype))
        e["pct_of_peak"] = 100 * row.tflops_total * 1e12 / p->first;
      jt.push_back(e);
    }
    r["shape_table"] = jt;
    if (!table.empty()) {
      txt << "  GEMM/attention shapes (by kernel time):\n"
          << "    op                        dtype  batch      M      N      K  calls  GFLOP/call  "
             "us/call  TFLOP/s  %peak\n";
      for (std::size_t i = 0; i < table.size() && i < opt.top_kernels; ++i) {
        const auto& row = table[i];
        std::string peak_pct = "    -";
        if (auto p = peaks.best(row.dtype))
          peak_pct = fmt("%5.1f", 100 * row.tflops_total * 1e12 / p->first);
        char line[256];
        std::snprintf(line, sizeof line,
                      "    %-25s %-5s %6lld %6lld %6lld %6lld %6zu %11.4f %8.2f %8.2f  %s\n",
                      short_name(row.op, 25).c_str(), row.dtype.c_str(),
                      static_cast<long long>(row.batch), static_cast<long long>(row.m),
                      static_cast<long long>(row.n), static_cast<long long>(row.k), row.calls,
                      row.gflops_per_call, row.kernel_us_mean, row.tflops_mean, peak_pct.c_str());
        txt << line;
      }
    }
    txt << "\n";
    ranks.push_back(r);
  }
  if (!inputs.empty()) sections.push_back(txt.str());
  txt.str("");
  json left_out = json::array();
  for (const auto& f : opt.left_out) {
    left_out.push_back({{"path", f.path}, {"why", f.why}});
    txt << "note: " << f.path << " left out: " << f.why << "\n";
  }
  print_rank_sections(txt, sections, section_rank, rank_rows, opt);
  out["inputs"] = in_json;
  if (!left_out.empty()) out["inputs_left_out"] = left_out;
  out["ranks"] = ranks;
  if (annotated) {
    json sources = json::array();
    for (const auto& in : inputs) sources.push_back(in.trace->path);
    annotated->finish(
        {{"schema", "goodput.annotated-trace"},
         {"schema_version", "1.0.0"},
         {"sources", sources},
         {"tracks",
          "per rank: steps (GPU window, args: cpu/gpu ms, breakdown %, MFU %), GPU "
          "idle (waiting for host launch / other), one track per stream with "
          "kernels categorised by class; counters MFU %, TFLOP/s, step breakdown %"}});
    out["annotated_trace"] = {{"path", opt.trace_out}, {"events", annotated->events()}};
    txt << "annotated trace: " << opt.trace_out << " (" << annotated->events()
        << " events; open in https://ui.perfetto.dev)\n";
  }

  // Stragglers: per step that every rank has, the slowest rank and the rank waited for.
  json strag = json::array(), partial = json::array(), open = json::array();
  for (const auto& name : step_order) {
    const auto& per = by_step[name];
    if (per.size() < 2 || per.size() < ranks_with_steps) {
      if (ranks_with_steps > 1) partial.push_back(name);
      continue;
    }
    if (const auto it = last_on_ranks.find(name);
        it != last_on_ranks.end() && it->second < per.size()) {
      open.push_back(name);
      continue;
    }
    strag.push_back(straggler_json(name, per));
  }
  // rank -> steps in which it was the slowest, and in which the others waited for it
  std::map<int, std::size_t> slowest_in, waited_for_in;
  for (const auto& s : strag) {
    if (!s["slowest_rank"].is_null()) ++slowest_in[s["slowest_rank"].get<int>()];
    if (!s["waited_for_rank"].is_null()) ++waited_for_in[s["waited_for_rank"].get<int>()];
  }
  if (rank_rows.size() > 1)
    print_rank_rows(txt, rank_rows, slowest_in, waited_for_in, strag.size(), opt);
  if (!partial.empty()) out["steps_not_on_every_rank"] = partial;
  if (!open.empty()) out["steps_last_on_some_ranks_only"] = open;
  if (!strag.empty()) {
    out["stragglers"] = strag;
    auto counts = [](const std::map<int, std::size_t>& c) {
      json j = json::object();
      for (const auto& [rank, n] : c) j[std::to_string(rank)] = n;
      return j;
    };
    out["slowest_rank_counts"] = counts(slowest_in);
    out["waited_for_rank_counts"] = counts(waited_for_in);
    print_stragglers(txt, strag, slowest_in, waited_for_in, partial.size() + open.size(), opt);
  }
  if (mflops) {
    txt << "model: " << (model->name.empty() ? opt.model_file : model->name) << ", convention "
        << mflops->convention << " (" << mflops->formula
        << "): " << fmt("%.3f", mflops->flops_per_token / 1e9) << " GFLOP/token x "
        << fmt("%.0f", mflops->tokens_per_step)
        << " tokens/step/GPU = " << fmt("%.3f", mflops->flops_per_step / 1e12)
        << " TFLOP/step/GPU\n";
  }
  txt << "columns: % of the GPU step window (first GPU work of a step to the next step's); "
         "comm-x = communication not hidden under compute; MFU = model FLOPs / (step time x "
         "peak)"
      << (have_model_flops ? "" : "; 'x' = executed FLOPs from recorded shapes (no --model)")
      << (host_columns ? "; prog-cpu / tracer = CPU ms of the program / of goodput's tracer thread "
                         "in the step, steal = CPU ms the VM's host took from all CPUs, isw = "
                         "involuntary context switches"
                       : "")
      << "\n";
  return {out, txt.str()};
}

}  // namespace goodput::analyze
