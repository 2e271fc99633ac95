// Noise-aware comparison of two sets of results: match by name, parameters and device; judge each
// pair by the change of the median time, a Mann-Whitney U test on the raw samples, the
// Hodges-Lehmann confidence interval of the ratio, a threshold per kind and a noise floor learned
// from the baseline's own spread.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/compare/mann_whitney.hpp"
#include "harness/compare/results_file.hpp"
#include "harness/core/gpu_spec.hpp"
#include "harness/core/stats.hpp"

namespace goodput::compare {

struct Thresholds {
  double fallback = 0.03;                 // relative change of the median time
  std::map<std::string, double> by_kind;  // "gemm" -> 0.02, ...
  double for_kind(const std::string& kind) const;
};

// "3%", "0.03" (the default for every kind) or "collective=8%" (one kind). InputError otherwise.
void parse_threshold(const std::string& text, Thresholds& into);

struct CompareOptions {
  Thresholds thresholds;
  double alpha = 0.05;          // significance level of the U test
  double confidence = 0.95;     // level of the change's confidence interval
  std::size_t min_samples = 5;  // per side; fewer gives "inconclusive" (a U test cannot decide)
  double noise_factor = 2.0;    // noise floor = factor x the baseline's robust relative spread
};

enum class Verdict { kFaster, kSlower, kSame, kInconclusive };
const char* to_string(Verdict v);

struct Entry {
  Measurement baseline, current;
  Stats base_stats, cur_stats;
  double change = 0;            // median time current / baseline - 1 (> 0: slower)
  double ci_lo = 0, ci_hi = 0;  // confidence interval of the time ratio - 1
  double ci_coverage = 0;
  bool ci_bounded = false;
  MannWhitney test;
  double threshold = 0;  // effective: max(threshold for the kind, noise floor)
  double noise_floor = 0;
  Verdict verdict = Verdict::kInconclusive;
  std::string reason;              // one line: why this verdict
  std::vector<std::string> flags;  // different GPU model, driver, library versions
  std::optional<Figure> base_figure, cur_figure;
  std::optional<double> datasheet;  // the datasheet peak in the figure's unit, where known
};

// A benchmark present on one side only, or not measured on one side (`m` is then the current one).
struct Unmatched {
  Measurement m;
  std::string why;
};

struct Comparison {
  std::vector<std::string> baseline_files, current_files;
  CompareOptions options;
  std::vector<Entry> entries;
  std::vector<Unmatched> only_baseline, only_current, not_measured;
  std::vector<std::string> flags;  // every distinct device flag, once
  std::size_t count(Verdict v) const;
  bool regressed() const { return count(Verdict::kSlower) > 0; }
  // Baseline benchmarks missing, failed or skipped now; a baseline failure measured now is not.
  std::size_t missing_now() const;
};

// Judge one pair of sample sets (seconds). Fills every statistic and the verdict of `e`.
void judge(Entry& e, const CompareOptions& opt);
// Differences between the devices two results ran on, one line each.
std::vector<std::string> device_flags(const std::optional<DeviceInfo>& base,
                                      const std::optional<DeviceInfo>& cur);
// Datasheet peak for a result's headline figure (FLOP/s of its data type, or HBM bytes/s).
std::optional<double> datasheet_peak(const Measurement& m, const Figure& f, const SpecDb* db);

// `db` may be null (no datasheet column).
Comparison compare_results(const std::vector<Measurement>& baseline,
                           const std::vector<Measurement>& current, const CompareOptions& opt,
                           const SpecDb* db);

nlohmann::json to_json(const Comparison& c);

// What a comparison reads: the baseline files (given, or the current device's SKU folder under
// `baseline_dir`) and the current files. InputError on bad or missing files.
struct Inputs {
  std::vector<ResultsFile> baseline, current;
};
// Without `baseline_dir` the first path is the baseline and the rest are current results.
Inputs load_inputs(const std::vector<std::string>& paths, const std::string& baseline_dir);
Comparison compare_inputs(const Inputs& in, const CompareOptions& opt, const SpecDb* db);

// The default spec data, or null with a warning on stderr when it cannot be read: comparisons
// still work, without the datasheet column.
std::unique_ptr<SpecDb> spec_db_or_warn();

}  // namespace goodput::compare
