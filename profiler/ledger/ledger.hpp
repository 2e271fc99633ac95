// The goodput ledger: every second of a measurement window, assigned to exactly one category
// and tied to the event that caused it. infra goodput = available / window; framework goodput =
// productive (kept steps) / available; model goodput = MFU; goodput = their product.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/stats.hpp"
#include "profiler/ledger/events.hpp"

namespace goodput::ledger {

enum class Layer { kInfra, kFramework, kProductive };

struct CategoryInfo {
  const char* name;
  Layer layer;
  const char* meaning;
};
// Every category the ledger knows, in report order (custom phases come as "phase:<name>").
const std::vector<CategoryInfo>& categories();
Layer category_layer(const std::string& category);

struct ModelLayer {
  std::optional<double> mfu;  // fraction in (0, 1]
  std::string source;         // "--mfu", "analysis file ...", or "" (unknown)
};

// `--mfu`: "0.42" or "42%", a fraction in (0, 1]; InputError otherwise.
double parse_mfu(const std::string& text);

struct LedgerOptions {
  std::optional<double> from, to;  // measurement window (unix seconds); default: the whole job
  ModelLayer model;
  double slow_step_mads = 3.0;  // anomalous: step time > median + this x MAD
  std::size_t max_listed = 10;  // slow steps and causes listed per category
};

// What caused a loss: an event of the log (with its place) and, for restarts, the checkpoint
// the next attempt resumed from.
struct Cause {
  std::string type;         // fault, job_start, attempt, checkpoint_save, phase, restart, ...
  std::string description;  // "fault 'xid 79' (infra) on ranks 3", ...
  std::string where;        // file:line of the event ("" when inferred)
  double t = 0;
  std::int32_t attempt = 0;
  std::string checkpoint;  // restarts: "step 800 saved at file:line"
  std::int64_t checkpoint_step = -1;
  std::int32_t fault = -1;  // index into Ledger::faults when a fault is behind it
};

struct Loss {
  std::string category;
  std::size_t cause = 0;  // index into Ledger::causes
  double seconds = 0;
  std::size_t intervals = 0;
};

struct CategoryTotal {
  std::string category;
  Layer layer = Layer::kFramework;
  double seconds = 0;
  double share_of_window = 0;  // 0..1
};

struct AttemptSummary {
  std::int32_t attempt = 0;
  double start = 0, end = 0;
  bool end_inferred = false;
  std::int64_t first_step = -1, last_step = -1;
  std::int64_t resumed_from = -1;  // checkpoint step restored (or inferred), -1 for a fresh start
  std::size_t steps_run = 0, steps_kept = 0, steps_lost = 0, unfinished = 0;
  double productive_s = 0;
  std::string ended_by;  // fault description, attempt_end reason, "job end", ...
};

struct SlowStep {
  std::int64_t step = 0;
  std::int32_t attempt = 0;
  double seconds = 0, excess_s = 0;
  std::string where;
};

struct Segment {  // the painted timeline, adjacent equal pieces merged
  double start = 0, end = 0;
  std::uint32_t category = 0;  // index into Ledger::category_names
  std::int32_t attempt = 0;
};

struct FaultMark {
  double t = 0;
  std::string cause, layer, ranks, where;
  std::int32_t attempt = 0;
  double cost_s = 0;  // every loss tied to this fault
};

struct Ledger {
  double window_start = 0, window_end = 0;
  bool job_start_inferred = false, job_end_inferred = false;
  std::string job_status;
  std::int64_t gpus = -1;
  double window_s = 0, available_s = 0, productive_s = 0;
  double infra_goodput = 0, framework_goodput = 0;
  ModelLayer model;
  std::optional<double> goodput;      // only when the model layer is known
  std::vector<CategoryTotal> totals;  // every category with time, report order
  std::vector<Cause> causes;
  std::vector<Loss> losses;  // by (category, cause), largest first
  std::vector<AttemptSummary> attempts;
  std::vector<FaultMark> faults;
  std::optional<Stats> step_stats;  // finished steps on the reference rank
  double slow_threshold_s = 0;
  std::size_t slow_steps = 0;
  double slow_excess_s = 0;
  std::vector<SlowStep> slowest;
  std::vector<std::string> category_names;
  std::vector<Segment> timeline;
  std::vector<Warning> warnings;  // the calculator's own (the reader's stay in the log)
};

// InputError when the log has no usable events or the window is empty.
Ledger compute_ledger(const EventLog& log, const LedgerOptions& opt);

nlohmann::json to_json(const Ledger& l, const EventLog& log);
std::string format_report(const Ledger& l, const EventLog& log);
// A timeline picture: one row per attempt and a whole-window row, coloured by category,
// faults marked.
std::string render_svg(const Ledger& l);

// The model layer from a `goodput analyze` results document: analysis.summary.mfu, else
// analysis.mfu, else the median over ranks of analysis.ranks[].steady_state.mfu_median, else the
// median of analysis.steps[].mfu. InputError naming the field otherwise.
ModelLayer model_layer_from_analysis(const nlohmann::json& doc, const std::string& path);

}  // namespace goodput::ledger
