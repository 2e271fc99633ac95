#include "profiler/ledger/google.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "harness/core/error.hpp"

namespace goodput::ledger {

namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
const char* const kTpuInit = "TPU_INITIALIZATION";
const char* const kPrep = "TRAINING_PREP";
const char* const kStartup = "PROGRAM_STARTUP";
const char* const kSync = "DATA_LOADING_SYNC";
const char* const kAsync = "DATA_LOADING_ASYNC";
const char* const kSave = "UNPRODUCTIVE_CHECKPOINT_SAVE_TIME";
const char* const kRestore = "UNPRODUCTIVE_CHECKPOINT_RESTORE_TIME";
const char* const kWasted = "WASTED_PROGRESS_FROM_DISRUPTION";
const char* const kInfra = "INFRASTRUCTURE_RECOVERY_FROM_DISRUPTION";
const char* const kCustom = "CUSTOM_BADPUT_EVENTS";
const char* const kOther = "OTHER";

enum class G { kStart, kEnd, kStep, kInitB, kInitE, kPrepB, kPrepE, kDataB, kDataE };

struct Entry {
  double t;
  G type;
  std::int64_t step;
};

struct Custom {
  double start, end;
  std::string type;
};

struct Unproductive {
  std::map<std::string, double> flat;
  std::map<std::string, double> custom;
  void add(const Unproductive& o) {
    for (const auto& [k, v] : o.flat) flat[k] += v;
    for (const auto& [k, v] : o.custom) custom[k] += v;
  }
};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One segment: steps in the order first seen since the last (re)start.
using Steps = std::vector<std::pair<std::int64_t, double>>;

std::pair<double, Unproductive> segment(const Steps& steps, std::int64_t curr_step,
                                        const std::vector<Custom>& customs) {
  Unproductive u;
  if (curr_step == 0 || steps.empty()) return {0.0, u};
  std::int64_t min_step = steps.front().first;
  for (const auto& s : steps) min_step = std::min(min_step, s.first);
  double total = 0, first = 0, wasted = 0;
  std::vector<double> others;
  std::size_t counted = 0;
  for (std::size_t i = 1; i < steps.size(); ++i) {
    const auto [ps, pt] = steps[i - 1];
    const auto [cs, ct] = steps[i];
    const double raw = ct - pt;
    if (cs <= curr_step) {
      if (cs - 1 != ps) continue;
      double in_custom = 0;
      for (const auto& c : customs)
        if (pt <= c.start && c.end <= ct) {
          in_custom += c.end - c.start;
          u.custom[c.type] += c.end - c.start;
        }
      const double adj = std::max(0.0, raw - in_custom);
      total += adj;
      if (ps == min_step)
        first = adj;
      else
        others.push_back(adj);
      ++counted;
    } else {
      wasted += raw;  // after the step the next segment restarts from: lost
    }
  }
  if (counted == 0) {
    Unproductive w;
    w.flat[kWasted] = wasted;
    return {0.0, w};
  }
  u.flat[kWasted] = wasted;
  if (others.empty()) {
    u.flat[kStartup] = 0;
    return {first, u};
  }
  const double mean_other = (total - first) / static_cast<double>(others.size());
  const double extra = std::max(0.0, first - mean_other);
  u.flat[kStartup] = extra;
  return {total - extra, u};
}

}  // namespace

GoogleGoodput compute_google(const EventLog& log) {
  GoogleGoodput g;
  auto warn = [&](std::string where, std::string msg) {
    g.warnings.push_back({std::move(where), std::move(msg)});
  };
  // The library reads one writer's log (worker 0): the reference rank's events, and the first
  // start of each attempt.
  std::vector<Entry> entries;
  std::vector<Custom> customs;
  std::map<std::string, double> open_custom;
  // NaN: no operation open (std::optional trips GCC's maybe-uninitialized here).
  double save_open = kNone, restore_open = kNone;
  double save_s = 0, restore_s = 0;
  std::unordered_set<std::int32_t> attempts_seen;
  bool any_attempt = false;
  for (const auto& e : log.events)
    if (e.kind == Kind::kAttemptStart) any_attempt = true;
  double last_t = log.events.empty() ? 0 : log.events.back().t;
  for (const auto& e : log.events) {
    switch (e.kind) {
      case Kind::kAttemptStart:
        if (attempts_seen.insert(e.attempt).second || e.attempt == 0)
          entries.push_back({e.t, G::kStart, 0});
        break;
      case Kind::kJobStart:
        if (!any_attempt) entries.push_back({e.t, G::kStart, 0});
        break;
      case Kind::kJobEnd:
        entries.push_back({e.t, G::kEnd, 0});
        break;
      case Kind::kStepStart:
        if (e.rank == log.reference_rank) entries.push_back({e.t, G::kStep, e.step});
        break;
      case Kind::kStep:
        if (e.rank == log.reference_rank) entries.push_back({e.t - e.dur, G::kStep, e.step});
        break;
      case Kind::kCkptSaveBegin:
        save_open = e.t;
        break;
      case Kind::kCkptSaveEnd:
        if (!std::isnan(save_open)) save_s += e.t - save_open;
        save_open = kNone;
        break;
      case Kind::kCkptRestoreBegin:
        restore_open = e.t;
        break;
      case Kind::kCkptRestoreEnd:
        if (!std::isnan(restore_open)) restore_s += e.t - restore_open;
        restore_open = kNone;
        break;
      case Kind::kPhaseBegin:
      case Kind::kPhaseEnd: {
        const std::string& name = log.str(e.name);
        const bool begin = e.kind == Kind::kPhaseBegin;
        if (name == "init")
          entries.push_back({e.t, begin ? G::kInitB : G::kInitE, 0});
        else if (name == "prep" || name == "compile" || name == "warmup")
          entries.push_back({e.t, begin ? G::kPrepB : G::kPrepE, 0});
        else if (name == "data")
          entries.push_back({e.t, begin ? G::kDataB : G::kDataE, 0});
        else if (begin)
          open_custom[upper(name)] = e.t;
        else {
          auto it = open_custom.find(upper(name));
          if (it != open_custom.end()) {
            if (it->second < e.t) customs.push_back({it->second, e.t, it->first});
            open_custom.erase(it);
          }
        }
        break;
      }
      default:
        break;
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.t < b.t; });

  std::optional<double> first_start, job_end;
  for (const auto& en : entries) {
    if (en.type == G::kStart && !first_start) first_start = en.t;
    if (en.type == G::kEnd) job_end = en.t;
  }
  if (!first_start)
    throw InputError("google convention: the log has no attempt_start or job_start");
  if (!job_end) {
    g.job_end_inferred = true;
    job_end = last_t;
    warn(
        "",
        "no job_end: the total time ends at the last event (the library would use the query time)");
  }
  g.total_s = *job_end - *first_start;
  if (g.total_s <= 0) throw InputError("google convention: total job time is zero");

  double productive = 0;
  Unproductive total;
  Steps steps;
  std::unordered_set<std::int64_t> in_segment;
  double job_start = kNone, end_seen = kNone, init_b = kNone, prep_b = kNone, data_b = kNone,
         current_sync = kNone;
  double init_s = 0, prep_s = 0, data_s = 0;
  bool sync_loading = true;
  for (const auto& en : entries) {
    switch (en.type) {
      case G::kStart:
        job_start = en.t;
        break;
      case G::kStep:
        if (in_segment.insert(en.step).second) {
          steps.emplace_back(en.step, en.t);
          break;
        }
        {
          // A step seen again: the job restarted from it.
          ++g.disruptions;
          const double disruption_t = steps.back().second;
          auto [seg_prod, seg_u] = segment(steps, en.step, customs);
          productive += seg_prod;
          sync_loading = true;
          if (!std::isnan(current_sync)) {
            seg_u.flat[kSync] += current_sync;
            current_sync = kNone;
          }
          if (!std::isnan(job_start) && job_start > disruption_t)
            seg_u.flat[kInfra] += job_start - disruption_t;
          total.add(seg_u);
          steps.assign(1, {en.step, en.t});
          in_segment = {en.step};
        }
        break;
      case G::kEnd:
        end_seen = en.t;
        break;
      case G::kInitB:
        init_b = en.t;
        break;
      case G::kInitE:
        if (!std::isnan(init_b)) init_s += en.t - init_b;
        init_b = kNone;
        break;
      case G::kPrepB:
        prep_b = en.t;
        break;
      case G::kPrepE:
        if (!std::isnan(prep_b)) prep_s += en.t - prep_b;
        prep_b = kNone;
        break;
      case G::kDataB:
        data_b = en.t;
        break;
      case G::kDataE:
        if (!std::isnan(data_b)) {
          current_sync = en.t - data_b;
          data_s += current_sync;
          if (sync_loading) {
            total.flat[kSync] += current_sync;
            sync_loading = false;
          }
        }
        data_b = kNone;
        break;
    }
  }
  total.flat[kTpuInit] = init_s;
  total.flat[kPrep] = prep_s;
  total.flat[kAsync] = data_s - total.flat[kSync];
  total.flat[kSave] = save_s;
  total.flat[kRestore] = restore_s;
  if (!steps.empty()) {
    std::int64_t last_step = steps.front().first;
    double last_start = steps.front().second;
    for (const auto& s : steps)
      if (s.first >= last_step) {
        last_step = s.first;
        last_start = s.second;
      }
    auto [seg_prod, seg_u] = segment(steps, last_step, customs);
    productive += seg_prod;
    total.add(seg_u);
    if (!std::isnan(end_seen)) productive += end_seen - last_start;
    g.last_step = last_step;
  }
  productive -= save_s;
  if (productive < 0 || productive > g.total_s)
    throw InputError("google convention: productive time " + std::to_string(productive) +
                     " s is outside [0, total job time]; the log does not fit its model");
  // Out-of-range buckets are zeroed, as the library does.
  for (auto* m : {&total.flat, &total.custom})
    for (auto& [k, v] : *m)
      if (v < 0 || v > g.total_s) {
        warn("", std::string("bucket ") + k + " could not be computed (" + std::to_string(v) +
                     " s): set to 0");
        v = 0;
      }
  double known = 0;
  for (const auto& [k, v] : total.flat)
    if (k != kAsync) known += v;
  for (const auto& [k, v] : total.custom) known += v;
  total.flat[kOther] = std::max(0.0, g.total_s - productive - known);
  g.productive_s = productive;
  g.goodput_percent = 100 * productive / g.total_s;
  g.badput_s = total.flat;
  g.custom_s = total.custom;
  return g;
}

nlohmann::json to_json(const GoogleGoodput& g, const EventLog& log) {
  nlohmann::json j;
  j["convention"] = "google";
  j["reference"] = "ml-goodput-measurement GoodputCalculator.get_job_goodput";
  j["total_s"] = g.total_s;
  j["productive_s"] = g.productive_s;
  j["goodput_percent"] = g.goodput_percent;
  j["last_step"] = g.last_step;
  j["disruptions"] = g.disruptions;
  j["job_end_inferred"] = g.job_end_inferred;
  nlohmann::json b = nlohmann::json::object();
  for (const auto& [k, v] : g.badput_s) b[k] = {{"seconds", v}, {"percent", 100 * v / g.total_s}};
  nlohmann::json c = nlohmann::json::object();
  for (const auto& [k, v] : g.custom_s) c[k] = {{"seconds", v}, {"percent", 100 * v / g.total_s}};
  b[kCustom] = c;
  j["badput"] = b;
  nlohmann::json w = nlohmann::json::array();
  for (const auto* list : {&log.warnings, &g.warnings})
    for (const auto& x : *list) w.push_back({{"where", x.where}, {"message", x.message}});
  j["warnings"] = w;
  j["warnings_total"] = log.warnings_total + g.warnings.size();
  return j;
}

std::string format_report(const GoogleGoodput& g, const EventLog& log) {
  std::ostringstream o;
  char b[160];
  o << "goodput ledger --convention google (ml-goodput-measurement definitions): "
    << log.events_total << " events, reference rank " << log.reference_rank << "\n";
  std::snprintf(b, sizeof b,
                "  total %.3f s, productive %.3f s, goodput %.2f %%, %zu disruption(s)\n",
                g.total_s, g.productive_s, g.goodput_percent, g.disruptions);
  o << b;
  for (const auto& [k, v] : g.badput_s) {
    std::snprintf(b, sizeof b, "  %-40s %12.3f s %8.2f %%%s\n", k.c_str(), v, 100 * v / g.total_s,
                  k == kAsync ? "  (overlapped: not subtracted)" : "");
    o << b;
  }
  for (const auto& [k, v] : g.custom_s) {
    std::snprintf(b, sizeof b, "  %-40s %12.3f s %8.2f %%\n",
                  (std::string(kCustom) + "." + k).c_str(), v, 100 * v / g.total_s);
    o << b;
  }
  // The reader's warnings (malformed lines, clock skew, ...) first, as in the default report.
  const std::size_t nw = log.warnings_total + g.warnings.size();
  std::size_t k = 0;
  for (const auto* list : {&log.warnings, &g.warnings})
    for (const auto& w : *list)
      if (k++ < 20)
        o << "  warning: " << (w.where.empty() ? "" : w.where + ": ") << w.message << "\n";
  if (nw > 20) o << "  ... " << nw - 20 << " more warnings in --json\n";
  return o.str();
}

}  // namespace goodput::ledger
