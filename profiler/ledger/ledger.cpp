#include "profiler/ledger/ledger.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "harness/core/error.hpp"

namespace goodput::ledger {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::int64_t kNoBound = std::numeric_limits<std::int64_t>::max();

// Painting priorities: where intervals overlap, the higher one owns the time.
enum Priority : int {
  kPrioGap = 1,      // between attempts, before the first, after the last
  kPrioAttempt = 2,  // inside an attempt, between steps
  kPrioEdge = 3,     // attempt start to first step, last step to attempt end
  kPrioKept = 4,
  kPrioLost = 5,
  kPrioUnfinished = 6,
  kPrioCustom = 7,  // evaluation and other named phases
  kPrioInit = 8,
  kPrioData = 9,
  kPrioRestore = 10,
  kPrioSave = 11,
  kPrioInfraFault = 12,
  kPrioOrchestration = 13,
};

const char* const kProductive = "productive";

struct StepExec {
  std::int64_t step = 0;
  double start = 0, end = 0;
  const Event* ev = nullptr;  // the event that opened it
  bool finished = true, redone = false;
};

struct Span {
  std::int64_t step = -1;
  std::string name;
  double begin = 0, end = 0;
  const Event* ev = nullptr;
  bool finished = true;
};

struct Attempt {
  std::int32_t id = 0;
  const Event* start_ev = nullptr;
  const Event* end_ev = nullptr;
  double first_t = kInf, last_t = -kInf;
  double start = 0, end = 0;
  bool end_inferred = false;
  std::vector<StepExec> steps;
  std::vector<Span> saves, restores, phases;
  std::vector<std::size_t> faults;  // indices into Ledger::faults
  // pairing state
  std::optional<StepExec> open_step;
  std::optional<Span> open_save, open_restore;
  std::map<std::string, Span> open_phases;
};

bool clean_status(const std::string& s) {
  return s.empty() || s == "ok" || s == "success" || s == "succeeded" || s == "completed" ||
         s == "complete" || s == "finished";
}

std::string phase_category(const std::string& name) {
  if (name == "init" || name == "prep" || name == "compile" || name == "warmup") return "init";
  if (name == "data") return "data_stall";
  return "phase:" + name;
}

int phase_priority(const std::string& category) {
  if (category == "init") return kPrioInit;
  if (category == "data_stall") return kPrioData;
  return kPrioCustom;
}

// The time an infrastructure fault at t costs: until the reference rank starts a step again
// (training carried on, so the resources work) or the attempt ends, never over a kept step.
std::pair<double, double> infra_fault_span(const Attempt& a, const std::vector<bool>& kept,
                                           double t) {
  double begin = t, end = a.end;
  for (std::size_t k = 0; k < a.steps.size(); ++k) {
    const StepExec& s = a.steps[k];
    if (kept[k] && s.start <= t && t < s.end) begin = s.end;
    if (s.start > t) end = std::min(end, s.start);
  }
  return {begin, end};
}

struct Interval {
  double start, end;
  int prio;
  std::uint32_t category;
  std::size_t cause;
  std::int32_t attempt;
};

}  // namespace

const std::vector<CategoryInfo>& categories() {
  static const std::vector<CategoryInfo> c = {
      {kProductive, Layer::kProductive, "steps whose progress was kept"},
      {"queueing", Layer::kInfra, "job submitted, resources not yet allocated"},
      {"infra_fault", Layer::kInfra, "an infrastructure fault until resources were replaced"},
      {"restart", Layer::kInfra, "between a failed attempt and the next one (restart delay)"},
      {"orchestration", Layer::kInfra, "resources allocated, job not yet started"},
      {"teardown", Layer::kInfra, "after the last attempt until the job end"},
      {"startup", Layer::kFramework, "attempt start to first step not covered by a phase"},
      {"init", Layer::kFramework, "init/prep/compile/warmup phases"},
      {"checkpoint_restore", Layer::kFramework, "blocking checkpoint restores"},
      {"checkpoint_save", Layer::kFramework, "blocking checkpoint saves"},
      {"data_stall", Layer::kFramework, "synchronous data-loading waits"},
      {"lost_progress", Layer::kFramework, "finished steps whose progress was not kept"},
      {"unfinished_step", Layer::kFramework, "a step that never ended (crash or hang)"},
      {"step_gap", Layer::kFramework, "between steps, not covered by any event"},
      {"shutdown", Layer::kFramework, "last step to attempt end"},
  };
  return c;
}

Layer category_layer(const std::string& category) {
  for (const auto& c : categories())
    if (category == c.name) return c.layer;
  return Layer::kFramework;  // phase:<name>
}

// "0.42" or "42%": a fraction in (0, 1].
double parse_mfu(const std::string& text) {
  std::string s = text;
  double scale = 1;
  if (!s.empty() && s.back() == '%') {
    s.pop_back();
    scale = 0.01;
  }
  const double v = is_decimal_number(s) ? std::strtod(s.c_str(), nullptr) * scale : 0;
  if (!(v > 0 && v <= 1))
    throw InputError("--mfu: '" + text + "' is not a fraction in (0, 1] (e.g. 0.42 or 42%)");
  return v;
}

Ledger compute_ledger(const EventLog& log, const LedgerOptions& opt) {
  if (log.events.empty()) {
    std::string files;
    for (const auto& f : log.files) files += (files.empty() ? "" : ", ") + f;
    throw InputError(files + ": the event log has no events" +
                     (log.skipped_lines
                          ? " (" + std::to_string(log.skipped_lines) + " malformed lines skipped)"
                          : std::string()));
  }
  Ledger L;
  L.model = opt.model;
  auto warn = [&](std::string where, std::string msg) {
    L.warnings.push_back({std::move(where), std::move(msg)});
  };
  auto where = [&](const Event* e) { return e ? log.where(*e) : std::string(); };
  std::unordered_map<std::string, std::uint32_t> cat_ids;  // custom phases add names
  for (const auto& c : categories()) {
    cat_ids.emplace(c.name, static_cast<std::uint32_t>(L.category_names.size()));
    L.category_names.push_back(c.name);
  }
  auto cat_id = [&](const std::string& name) -> std::uint32_t {
    const auto [it, fresh] =
        cat_ids.emplace(name, static_cast<std::uint32_t>(L.category_names.size()));
    if (fresh) L.category_names.push_back(name);
    return it->second;
  };

  // ---- job bounds and job-level events
  const Event* job_start_ev = nullptr;
  const Event* job_end_ev = nullptr;
  std::vector<const Event*> allocations;
  for (const auto& e : log.events) {
    if (e.kind == Kind::kJobStart && (!job_start_ev || e.t < job_start_ev->t)) job_start_ev = &e;
    if (e.kind == Kind::kJobEnd && (!job_end_ev || e.t >= job_end_ev->t)) job_end_ev = &e;
    if (e.kind == Kind::kAllocated) allocations.push_back(&e);
    if ((e.kind == Kind::kAllocated || e.kind == Kind::kJobStart) && e.step > L.gpus)
      L.gpus = e.step;
  }
  const double first_t = log.events.front().t, last_t = log.events.back().t;
  double job_start = first_t, job_end = last_t;
  if (!job_start_ev) {
    L.job_start_inferred = true;
    warn(log.where(log.events.front()), "no job_start event: the job starts at the first event");
  } else if (job_start_ev->t > first_t + 1e-9) {
    warn(where(job_start_ev), "events precede job_start: the job starts at the first event");
  }
  if (!job_end_ev) {
    L.job_end_inferred = true;
    warn(log.where(log.events.back()),
         "no job_end event: the job ends at the last event (still running, or its end was lost)");
  } else {
    L.job_status = log.str(job_end_ev->name);
    if (job_end_ev->t < last_t - 1e-9)
      warn(where(job_end_ev), "events follow job_end: the job ends at the last event");
  }

  // ---- attempts: group events, pair begins with ends
  std::map<std::int32_t, Attempt> attempts;
  std::vector<const Event*> fault_events;
  std::vector<std::int32_t> fault_attempt;
  std::int32_t current = 0, max_id = 0;
  bool any_attempt_start = false;
  for (const auto& e : log.events) {
    if (e.kind == Kind::kAttemptStart) {
      any_attempt_start = true;
      const std::int32_t id = e.attempt ? e.attempt : max_id + 1;
      max_id = std::max(max_id, id);
      current = id;
      auto& a = attempts[id];
      a.id = id;
      if (!a.start_ev || e.t < a.start_ev->t) a.start_ev = &e;
      a.first_t = std::min(a.first_t, e.t);
      a.last_t = std::max(a.last_t, e.t);
      continue;
    }
    std::int32_t id = e.attempt ? e.attempt : current;
    if (e.kind == Kind::kJobStart || e.kind == Kind::kJobEnd || e.kind == Kind::kAllocated ||
        e.kind == Kind::kReleased) {
      continue;  // job-level, in no attempt
    }
    if (id == 0) id = 1;
    max_id = std::max(max_id, id);
    auto& a = attempts[id];
    a.id = id;
    a.first_t = std::min(a.first_t, e.t);
    a.last_t = std::max(a.last_t, e.t);
    switch (e.kind) {
      case Kind::kAttemptEnd:
        if (!a.end_ev || e.t > a.end_ev->t) a.end_ev = &e;
        break;
      case Kind::kFault:
        fault_events.push_back(&e);
        fault_attempt.push_back(id);
        break;
      case Kind::kStepStart:
        if (a.open_step) {
          warn(where(a.open_step->ev), "step " + std::to_string(a.open_step->step) +
                                           " has no step_end: assumed to end when step " +
                                           std::to_string(e.step) + " started (" + where(&e) + ")");
          a.open_step->end = e.t;
          a.steps.push_back(*a.open_step);
        }
        a.open_step = StepExec{e.step, e.t, e.t, &e, true, false};
        break;
      case Kind::kStepEnd:
        if (!a.open_step) {
          warn(where(&e),
               "step_end for step " + std::to_string(e.step) + " without a step_start: ignored");
          break;
        }
        if (a.open_step->step != e.step)
          warn(where(&e), "step_end for step " + std::to_string(e.step) + " while step " +
                              std::to_string(a.open_step->step) + " (" + where(a.open_step->ev) +
                              ") is open: it ends that step");
        a.open_step->end = e.t;
        a.steps.push_back(*a.open_step);
        a.open_step.reset();
        break;
      case Kind::kStep:
        if (a.open_step) {
          warn(where(a.open_step->ev), "step " + std::to_string(a.open_step->step) +
                                           " has no step_end: assumed to end when step " +
                                           std::to_string(e.step) + " started (" + where(&e) + ")");
          a.open_step->end = e.t - e.dur;
          a.steps.push_back(*a.open_step);
          a.open_step.reset();
        }
        a.steps.push_back(StepExec{e.step, e.t - e.dur, e.t, &e, true, false});
        a.first_t = std::min(a.first_t, e.t - e.dur);
        break;
      case Kind::kCkptSaveBegin:
      case Kind::kCkptRestoreBegin: {
        auto& open = e.kind == Kind::kCkptSaveBegin ? a.open_save : a.open_restore;
        if (open) warn(where(open->ev), "checkpoint operation never ended before " + where(&e));
        open = Span{e.step, "", e.t, e.t, &e, true};
        break;
      }
      case Kind::kCkptSaveEnd:
      case Kind::kCkptRestoreEnd: {
        const bool save = e.kind == Kind::kCkptSaveEnd;
        auto& open = save ? a.open_save : a.open_restore;
        auto& list = save ? a.saves : a.restores;
        if (!open) {
          warn(where(&e), std::string(kind_name(e.kind)) + " without a begin: counted as instant");
          list.push_back(Span{e.step, "", e.t, e.t, &e, true});
          break;
        }
        if (open->step != e.step)
          warn(where(&e), "checkpoint step " + std::to_string(e.step) +
                              " differs from its begin (" + std::to_string(open->step) + " at " +
                              where(open->ev) + ")");
        open->end = e.t;
        list.push_back(*open);
        open.reset();
        break;
      }
      case Kind::kPhaseBegin: {
        const std::string& name = log.str(e.name);
        auto it = a.open_phases.find(name);
        if (it != a.open_phases.end()) {
          warn(where(it->second.ev), "phase '" + name + "' begun again at " + where(&e) +
                                         " before it ended: closed there");
          it->second.end = e.t;
          a.phases.push_back(it->second);
          a.open_phases.erase(it);
        }
        a.open_phases[name] = Span{-1, name, e.t, e.t, &e, true};
        break;
      }
      case Kind::kPhaseEnd: {
        const std::string& name = log.str(e.name);
        auto it = a.open_phases.find(name);
        if (it == a.open_phases.end()) {
          warn(where(&e), "phase_end '" + name + "' without a phase_begin: ignored");
          break;
        }
        it->second.end = e.t;
        a.phases.push_back(it->second);
        a.open_phases.erase(it);
        break;
      }
      default:
        break;
    }
  }
  if (attempts.empty()) throw InputError("the event log has no attempt, step or phase events");
  if (!any_attempt_start)
    warn("", "no attempt_start events: attempts are taken from the events' 'attempt' fields");

  // ---- attempt spans (in id order; an attempt cannot start before the previous one)
  std::vector<Attempt*> order;
  for (auto& [id, a] : attempts) order.push_back(&a);
  std::stable_sort(order.begin(), order.end(),
                   [](const Attempt* x, const Attempt* y) { return x->first_t < y->first_t; });
  for (std::size_t i = 0; i < order.size(); ++i) {
    Attempt& a = *order[i];
    a.start = a.start_ev ? a.start_ev->t : a.first_t;
    if (a.end_ev) {
      a.end = a.end_ev->t;
      if (a.last_t > a.end + 1e-9)
        warn(where(a.end_ev), "attempt " + std::to_string(a.id) +
                                  " has events after its attempt_end: it ends at its last event");
      a.end = std::max(a.end, a.last_t);
    } else {
      a.end = a.last_t;
      a.end_inferred = true;
      // A crashed attempt ends when the next one starts at the latest (unknown in between).
      if (i + 1 == order.size() && job_end_ev) a.end = std::max(a.end, a.last_t);
    }
    if (i + 1 < order.size()) {
      const double next =
          order[i + 1]->start_ev ? order[i + 1]->start_ev->t : order[i + 1]->first_t;
      if (a.end > next + 1e-9) {
        warn("", "attempt " + std::to_string(a.id) + " overlaps attempt " +
                     std::to_string(order[i + 1]->id) + ": it is cut at the next attempt's start");
        a.end = next;
      }
    }
    if (a.end_inferred && !(i + 1 == order.size() && !job_end_ev))
      warn(a.start_ev ? where(a.start_ev) : "",
           "attempt " + std::to_string(a.id) + " has no attempt_end: it ends at its last event");
    if (a.open_step) {
      StepExec s = *a.open_step;
      s.end = a.end;
      s.finished = false;
      warn(where(s.ev), "step " + std::to_string(s.step) + " of attempt " + std::to_string(a.id) +
                            " never ended (crash or hang): counted as lost until " +
                            format_utc(a.end));
      a.steps.push_back(s);
      a.open_step.reset();
    }
    for (auto* open : {&a.open_save, &a.open_restore})
      if (*open) {
        Span s = **open;
        s.end = a.end;
        s.finished = false;
        warn(where(s.ev), "checkpoint operation for step " + std::to_string(s.step) +
                              " never ended: it runs to the attempt end and holds no checkpoint");
        (open == &a.open_save ? a.saves : a.restores).push_back(s);
        open->reset();
      }
    for (auto& [name, sp] : a.open_phases) {
      Span s = sp;
      s.end = a.end;
      warn(where(s.ev), "phase '" + name + "' never ended: it runs to the attempt end");
      a.phases.push_back(s);
    }
    a.open_phases.clear();
    // Duplicate steps inside one attempt: the earlier run was redone.
    std::unordered_map<std::int64_t, std::size_t> seen;
    for (std::size_t k = 0; k < a.steps.size(); ++k) {
      auto [it, fresh] = seen.emplace(a.steps[k].step, k);
      if (!fresh) {
        warn(where(a.steps[k].ev), "step " + std::to_string(a.steps[k].step) +
                                       " ran again in the same attempt (first at " +
                                       where(a.steps[it->second].ev) +
                                       "): the earlier run counts as lost");
        a.steps[it->second].redone = true;
        it->second = k;
      }
    }
  }
  bool any_step = false;
  for (auto* a : order) any_step |= !a->steps.empty();
  if (!any_step) {
    std::string ranks;
    for (auto r : log.ranks_seen) ranks += (ranks.empty() ? "" : ",") + std::to_string(r);
    warn("", "no step events from reference rank " + std::to_string(log.reference_rank) +
                 " (ranks in the log: " + ranks + "); choose another with --rank");
  }
  job_start = std::min(job_start_ev ? job_start_ev->t : first_t, first_t);
  job_end = std::max(job_end_ev ? job_end_ev->t : last_t, last_t);
  for (auto* a : order) job_end = std::max(job_end, a->end);

  // ---- faults
  std::map<std::int32_t, Attempt*> by_id;
  for (auto* a : order) by_id[a->id] = a;
  for (std::size_t i = 0; i < fault_events.size(); ++i) {
    const Event* e = fault_events[i];
    FaultMark f;
    f.t = e->t;
    f.cause = log.str(e->name);
    f.layer = log.str(e->layer);
    f.ranks = log.str(e->ranks);
    f.where = where(e);
    f.attempt = fault_attempt[i];
    L.faults.push_back(f);
    by_id[fault_attempt[i]]->faults.push_back(L.faults.size() - 1);
  }
  auto fault_text = [&](std::size_t fi) {
    const auto& f = L.faults[fi];
    return "fault '" + f.cause + "' (" + f.layer + ")" +
           (f.ranks.empty() ? "" : " on ranks " + f.ranks);
  };
  // The fault that ended an attempt: its last one, unless a step started after it (training
  // carried on).
  auto ending_fault = [&](const Attempt& a) -> std::int32_t {
    if (a.faults.empty()) return -1;
    const auto fi = a.faults.back();
    for (const auto& s : a.steps)
      if (s.start > L.faults[fi].t) return -1;
    return static_cast<std::int32_t>(fi);
  };

  // ---- causes
  auto add_cause = [&](Cause c) {
    L.causes.push_back(std::move(c));
    return L.causes.size() - 1;
  };
  Cause job_cause{
      "job_start",
      L.job_start_inferred ? "job start (inferred from the first event)" : "job submitted",
      where(job_start_ev),
      job_start,
      0,
      "",
      -1,
      -1};
  const std::size_t c_job = add_cause(job_cause);
  const std::size_t c_end = add_cause(
      {"job_end", "job end" + (L.job_status.empty() ? std::string() : " (" + L.job_status + ")"),
       where(job_end_ev), job_end, 0, "", -1, -1});
  const std::size_t c_gap =
      add_cause({"steps", "between steps (no event covers it)", "", 0, 0, "", -1, -1});

  // Valid checkpoints (saves that ended), by time.
  struct Ckpt {
    std::int64_t step;
    double t;
    const Event* ev;
  };
  std::vector<Ckpt> ckpts;
  for (auto* a : order)
    for (const auto& s : a->saves)
      if (s.finished) ckpts.push_back({s.step, s.end, s.ev});
  std::sort(ckpts.begin(), ckpts.end(), [](const Ckpt& x, const Ckpt& y) { return x.t < y.t; });
  auto checkpoint_text = [&](std::int64_t step, double before) -> std::string {
    const Ckpt* best = nullptr;
    for (const auto& c : ckpts)
      if (c.step == step && c.t <= before) best = &c;
    if (best) return "step " + std::to_string(step) + " saved at " + where(best->ev);
    return "step " + std::to_string(step) + " (no save of it in the log)";
  };

  // Resume points and restart causes.
  const std::size_t n = order.size();
  std::vector<std::int64_t> resume(n, kNoBound);
  std::vector<std::size_t> restart_cause(n, c_job);
  for (std::size_t i = 0; i < n; ++i) {
    Attempt& a = *order[i];
    std::string how;
    if (!a.restores.empty()) {
      resume[i] = a.restores.front().step;
      how = "restored at " + where(a.restores.front().ev);
    } else if (i > 0 && !a.steps.empty()) {
      resume[i] = a.steps.front().step - 1;
      how = "inferred from its first step";
    }
    if (i == 0) continue;
    const Attempt& prev = *order[i - 1];
    const std::int32_t fi = ending_fault(prev);
    Cause c;
    c.type = "restart";
    c.attempt = a.id;
    if (fi >= 0) {
      c.description = "restart into attempt " + std::to_string(a.id) + " after " +
                      fault_text(static_cast<std::size_t>(fi));
      c.where = L.faults[static_cast<std::size_t>(fi)].where;
      c.t = L.faults[static_cast<std::size_t>(fi)].t;
      c.fault = fi;
    } else {
      const std::string reason = prev.end_ev ? log.str(prev.end_ev->name) : std::string();
      c.description = "restart into attempt " + std::to_string(a.id) + " after attempt " +
                      std::to_string(prev.id) + " ended" +
                      (reason.empty() ? " without a logged fault" : " (" + reason + ")");
      c.where = where(prev.end_ev);
      c.t = prev.end;
    }
    if (resume[i] != kNoBound) {
      c.checkpoint_step = resume[i];
      c.checkpoint = checkpoint_text(resume[i], a.start + 1e-9) + ", " + how;
    }
    restart_cause[i] = add_cause(c);
  }
  // How far the progress of the last attempt was kept.
  const Attempt& last = *order.back();
  const std::int32_t last_fault = ending_fault(last);
  const bool clean_end = clean_status(L.job_status) &&
                         !(last_fault >= 0 && (last.steps.empty() ||
                                               L.faults[static_cast<std::size_t>(last_fault)].t >=
                                                   last.steps.back().start));
  std::int64_t final_bound = kNoBound;
  std::size_t final_cause = c_end;
  if (!clean_end) {
    final_bound = ckpts.empty() ? -1 : ckpts.back().step;
    Cause c;
    c.type = last_fault >= 0 ? "fault" : "job_end";
    c.attempt = last.id;
    c.description = (last_fault >= 0 ? fault_text(static_cast<std::size_t>(last_fault))
                                     : "job ended with status '" + L.job_status + "'") +
                    ", no restart";
    if (last_fault >= 0) {
      c.where = L.faults[static_cast<std::size_t>(last_fault)].where;
      c.t = L.faults[static_cast<std::size_t>(last_fault)].t;
      c.fault = last_fault;
    } else {
      c.where = where(job_end_ev);
      c.t = job_end;
    }
    c.checkpoint_step = final_bound;
    c.checkpoint = final_bound >= 0 ? checkpoint_text(final_bound, job_end + 1) + " is what remains"
                                    : "no checkpoint: all progress lost";
    final_cause = add_cause(c);
  }
  std::vector<std::int64_t> bound_after(n, final_bound);
  for (std::size_t i = n - 1; i-- > 0;)
    bound_after[i] = std::min(bound_after[i + 1], resume[i + 1]);

  // ---- intervals
  std::vector<Interval> iv;
  auto add = [&](double s, double e, int prio, const std::string& cat, std::size_t cause,
                 std::int32_t attempt) {
    if (e > s) iv.push_back({s, e, prio, cat_id(cat), cause, attempt});
  };
  std::map<std::string, std::size_t> shared;  // one cause per checkpoint kind / phase name
  auto shared_cause = [&](const std::string& key, const std::string& type, const std::string& desc,
                          const Event* ev) {
    auto it = shared.find(key);
    if (it != shared.end()) return it->second;
    const std::size_t id = add_cause({type, desc, where(ev), ev ? ev->t : 0, 0, "", -1, -1});
    shared[key] = id;
    return id;
  };
  for (std::size_t i = 0; i < n; ++i) {
    Attempt& a = *order[i];
    AttemptSummary sum;
    sum.attempt = a.id;
    sum.start = a.start;
    sum.end = a.end;
    sum.end_inferred = a.end_inferred;
    sum.resumed_from =
        (i == 0 && a.restores.empty()) ? -1 : (resume[i] == kNoBound ? -1 : resume[i]);
    // The gap before this attempt.
    const double gap_start = i == 0 ? job_start : order[i - 1]->end;
    const Event* alloc = nullptr;
    for (const Event* e : allocations)
      if (e->t > gap_start && e->t <= a.start) alloc = e;
    std::string gap_cat = "queueing";
    std::size_t gap_cause = c_job;
    if (i > 0) {
      const std::int32_t fi = ending_fault(*order[i - 1]);
      gap_cat = fi >= 0 && L.faults[static_cast<std::size_t>(fi)].layer == "infra" ? "infra_fault"
                                                                                   : "restart";
      gap_cause = restart_cause[i];
    }
    if (alloc) {
      add(gap_start, alloc->t, kPrioGap, gap_cat, gap_cause, 0);
      add(alloc->t, a.start, kPrioOrchestration, "orchestration", gap_cause, 0);
    } else {
      add(gap_start, a.start, kPrioGap, gap_cat, gap_cause, 0);
    }
    // Inside the attempt.
    const std::size_t c_init =
        i == 0 ? shared_cause("attempt1", "attempt",
                              "job start-up (attempt " + std::to_string(a.id) + ")", a.start_ev)
               : restart_cause[i];
    add(a.start, a.end, kPrioAttempt, "step_gap", c_gap, a.id);
    const std::int32_t fi = ending_fault(a);
    std::size_t c_shutdown;
    if (fi >= 0) {
      c_shutdown = add_cause({"fault", fault_text(static_cast<std::size_t>(fi)),
                              L.faults[static_cast<std::size_t>(fi)].where,
                              L.faults[static_cast<std::size_t>(fi)].t, a.id, "", -1, fi});
      sum.ended_by = fault_text(static_cast<std::size_t>(fi)) + " at " +
                     L.faults[static_cast<std::size_t>(fi)].where;
    } else {
      const std::string reason = a.end_ev ? log.str(a.end_ev->name) : std::string();
      c_shutdown = add_cause(
          {"attempt",
           "attempt " + std::to_string(a.id) + " end" + (reason.empty() ? "" : " (" + reason + ")"),
           where(a.end_ev), a.end, a.id, "", -1, -1});
      sum.ended_by = a.end_ev ? (reason.empty() ? "attempt_end" : reason)
                              : (i + 1 == n ? "job end" : "no attempt_end (inferred)");
    }
    if (a.steps.empty()) {
      add(a.start, a.end, kPrioEdge, "startup", c_init, a.id);
    } else {
      add(a.start, a.steps.front().start, kPrioEdge, "startup", c_init, a.id);
      add(a.steps.back().end, a.end, kPrioEdge, "shutdown", c_shutdown, a.id);
      sum.first_step = a.steps.front().step;
      sum.last_step = a.steps.back().step;
    }
    std::vector<bool> kept(a.steps.size(), false);
    for (std::size_t k = 0; k < a.steps.size(); ++k) {
      const StepExec& s = a.steps[k];
      ++sum.steps_run;
      if (!s.finished) {
        ++sum.unfinished;
        add(s.start, s.end, kPrioUnfinished, "unfinished_step", c_shutdown, a.id);
        continue;
      }
      const bool lost = s.redone || s.step > bound_after[i];
      if (!lost) {
        kept[k] = true;
        ++sum.steps_kept;
        add(s.start, s.end, kPrioKept, kProductive, 0, a.id);
        continue;
      }
      ++sum.steps_lost;
      std::size_t cause = final_cause;
      if (s.redone) {
        cause = shared_cause("redone" + std::to_string(a.id), "attempt",
                             "steps repeated within attempt " + std::to_string(a.id), s.ev);
      } else {
        for (std::size_t j = i + 1; j < n; ++j)
          if (s.step > resume[j]) {
            cause = restart_cause[j];
            break;
          }
      }
      add(s.start, s.end, kPrioLost, "lost_progress", cause, a.id);
    }
    for (const auto& s : a.saves)
      add(s.begin, s.end, kPrioSave, "checkpoint_save",
          s.finished ? shared_cause("save", "checkpoint_save", "blocking checkpoint saves", s.ev)
                     : c_shutdown,
          a.id);
    for (const auto& s : a.restores)
      add(s.begin, s.end, kPrioRestore, "checkpoint_restore", c_init, a.id);
    for (const auto& p : a.phases) {
      const std::string cat = phase_category(p.name);
      std::size_t cause;
      if (cat == "init")
        cause = c_init;
      else
        cause = shared_cause("phase:" + p.name, "phase", "phase '" + p.name + "'", p.ev);
      add(p.begin, p.end, phase_priority(cat), cat, cause, a.id);
    }
    for (std::size_t f : a.faults) {
      if (L.faults[f].layer != "infra") continue;
      const auto [begin, end] = infra_fault_span(a, kept, L.faults[f].t);
      if (end <= begin) continue;
      add(begin, end, kPrioInfraFault, "infra_fault",
          add_cause({"fault", fault_text(f), L.faults[f].where, L.faults[f].t, a.id, "", -1,
                     static_cast<std::int32_t>(f)}),
          a.id);
    }
    L.attempts.push_back(sum);
  }
  add(order.back()->end, job_end, kPrioGap, "teardown", c_end, 0);

  // ---- window
  double w0 = job_start, w1 = job_end;
  if (opt.from) w0 = *opt.from;
  if (opt.to) w1 = *opt.to;
  if (w0 < job_start) {
    warn("", "--from is before the job start: the window starts at the job start");
    w0 = job_start;
  }
  if (w1 > job_end) {
    warn("", "--to is after the job end: the window ends at the job end");
    w1 = job_end;
  }
  if (!(w1 > w0))
    throw InputError("the measurement window is empty (" + format_utc(w0) + " .. " +
                     format_utc(w1) + ")");
  L.window_start = w0;
  L.window_end = w1;
  L.window_s = w1 - w0;

  // ---- paint: each instant goes to the highest-priority interval covering it
  struct Edge {
    double t;
    bool open;
    std::size_t idx;
  };
  std::vector<Edge> edges;
  edges.reserve(iv.size() * 2);
  for (std::size_t i = 0; i < iv.size(); ++i) {
    const double s = std::max(iv[i].start, w0), e = std::min(iv[i].end, w1);
    if (e <= s) continue;
    edges.push_back({s, true, i});
    edges.push_back({e, false, i});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
    return a.t < b.t || (a.t == b.t && !a.open && b.open);
  });
  std::set<std::pair<int, std::size_t>> active;
  std::vector<double> cat_seconds(L.category_names.size(), 0.0);
  std::map<std::pair<std::uint32_t, std::size_t>, Loss> losses;
  std::map<std::int32_t, double> attempt_productive;
  std::size_t last_top = static_cast<std::size_t>(-1);
  double prev = w0, covered = 0;
  auto credit = [&](double a, double b) {
    if (b <= a || active.empty()) return;
    const Interval& top = iv[active.rbegin()->second];
    const double dt = b - a;
    covered += dt;
    cat_seconds[top.category] += dt;
    if (top.category == 0) {
      attempt_productive[top.attempt] += dt;
    } else {
      auto& loss = losses[{top.category, top.cause}];
      loss.category = L.category_names[top.category];
      loss.cause = top.cause;
      loss.seconds += dt;
      if (active.rbegin()->second != last_top) ++loss.intervals;
    }
    last_top = active.rbegin()->second;
    if (!L.timeline.empty() && L.timeline.back().category == top.category &&
        L.timeline.back().attempt == top.attempt && std::abs(L.timeline.back().end - a) < 1e-9)
      L.timeline.back().end = b;
    else
      L.timeline.push_back({a, b, top.category, top.attempt});
  };
  for (const auto& e : edges) {
    credit(prev, e.t);
    prev = std::max(prev, e.t);
    if (e.open)
      active.insert({iv[e.idx].prio, e.idx});
    else
      active.erase({iv[e.idx].prio, e.idx});
  }
  if (L.window_s - covered > 1e-6 * std::max(1.0, L.window_s))
    warn("", "part of the window is covered by no event interval");

  // ---- totals and layers
  cat_seconds.resize(L.category_names.size(), 0.0);
  for (std::size_t c = 0; c < L.category_names.size(); ++c) {
    if (cat_seconds[c] <= 0) continue;
    CategoryTotal t;
    t.category = L.category_names[c];
    t.layer = category_layer(t.category);
    t.seconds = cat_seconds[c];
    t.share_of_window = t.seconds / L.window_s;
    L.totals.push_back(t);
    if (t.layer != Layer::kInfra) L.available_s += t.seconds;
    if (t.layer == Layer::kProductive) L.productive_s += t.seconds;
  }
  L.infra_goodput = L.available_s / L.window_s;
  L.framework_goodput = L.available_s > 0 ? L.productive_s / L.available_s : 0.0;
  if (L.model.mfu) L.goodput = L.infra_goodput * L.framework_goodput * *L.model.mfu;
  for (auto& [key, loss] : losses) L.losses.push_back(loss);
  std::stable_sort(L.losses.begin(), L.losses.end(),
                   [](const Loss& a, const Loss& b) { return a.seconds > b.seconds; });
  for (const auto& loss : L.losses) {
    const auto fi = L.causes[loss.cause].fault;
    if (fi >= 0) L.faults[static_cast<std::size_t>(fi)].cost_s += loss.seconds;
  }
  for (auto& s : L.attempts) s.productive_s = attempt_productive[s.attempt];

  // ---- step times
  std::vector<double> durations;
  struct Ref {
    double d;
    std::int64_t step;
    std::int32_t attempt;
    const Event* ev;
  };
  std::vector<Ref> refs;
  for (auto* a : order)
    for (const auto& s : a->steps)
      if (s.finished && s.start >= w0 && s.end <= w1) {
        durations.push_back(s.end - s.start);
        refs.push_back({s.end - s.start, s.step, a->id, s.ev});
      }
  if (!durations.empty()) {
    L.step_stats = summarize(durations);
    L.slow_threshold_s = L.step_stats->median + opt.slow_step_mads * L.step_stats->mad;
    std::vector<Ref> slow;
    for (const auto& r : refs)
      if (r.d > L.slow_threshold_s && r.d > L.step_stats->median) {
        ++L.slow_steps;
        L.slow_excess_s += r.d - L.step_stats->median;
        slow.push_back(r);
      }
    std::stable_sort(slow.begin(), slow.end(),
                     [](const Ref& a, const Ref& b) { return a.d > b.d; });
    for (std::size_t i = 0; i < slow.size() && i < opt.max_listed; ++i)
      L.slowest.push_back({slow[i].step, slow[i].attempt, slow[i].d,
                           slow[i].d - L.step_stats->median, where(slow[i].ev)});
  }
  return L;
}

}  // namespace goodput::ledger
