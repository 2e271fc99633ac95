#include "harness/compare/compare.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::compare {
namespace {

using nlohmann::json;

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f%%", v * 100);
  return b;
}

double parse_fraction(const std::string& text, const std::string& whole) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size() || !std::isfinite(v) || v < 0)
    throw InputError("--threshold '" + whole + "': '" + text +
                     "' is not a non-negative number or percentage (e.g. 3% or 0.03)");
  // A plain 5 is a fraction, 500 %: almost surely meant as 5 %, and it would hide every change.
  if (!percent && v >= 1)
    throw InputError("--threshold '" + whole + "': '" + text + "' reads as a fraction, " +
                     pct(v).substr(1) + "; write '" + text +
                     "%' for a percentage, or a fraction below 1 (e.g. 0.03)");
  return percent ? v / 100.0 : v;
}

// The kinds goodput's own benchmarks write; a per-kind threshold may name these or a kind the
// compared files hold.
const std::set<std::string> kWrittenKinds = {"collective", "gemm", "host_benchmark", "memory"};

void check_threshold_kinds(const Thresholds& t, const std::vector<Measurement>& baseline,
                           const std::vector<Measurement>& current) {
  std::set<std::string> known = kWrittenKinds;
  for (const auto* side : {&baseline, &current})
    for (const auto& m : *side)
      if (!m.kind.empty()) known.insert(m.kind);
  for (const auto& entry : t.by_kind) {
    if (known.count(entry.first)) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw InputError("--threshold " + entry.first + "=...: no result has kind '" + entry.first +
                     "'; known kinds: " + list);
  }
}

// Spec data names data types one way; benchmarks may name them another.
std::string spec_dtype(std::string d) {
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  if (d.rfind("fp8", 0) == 0 || d.find("e4m3") != std::string::npos ||
      d.find("e5m2") != std::string::npos)
    return "fp8";
  if (d == "half" || d == "float16" || d == "f16") return "fp16";
  if (d == "bfloat16") return "bf16";
  if (d == "float" || d == "float32" || d == "f32") return "fp32";
  if (d == "double" || d == "float64" || d == "f64") return "fp64";
  return d;
}

std::string version_text(const DeviceInfo& d) {
  return d.driver_release.empty() ? std::to_string(d.driver_version) : d.driver_release;
}

json figure_json(const std::optional<Figure>& f) {
  if (!f) return nullptr;
  return {{"metric", f->metric}, {"value", f->value}};
}

json measurement_ref(const Measurement& m) {
  return {{"name", m.name}, {"kind", m.kind},    {"params", m.params}, {"device", m.device_ordinal},
          {"file", m.file}, {"status", m.status}};
}

}  // namespace

double Thresholds::for_kind(const std::string& kind) const {
  const auto it = by_kind.find(kind);
  return it == by_kind.end() ? fallback : it->second;
}

void parse_threshold(const std::string& text, Thresholds& into) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    into.fallback = parse_fraction(text, text);
    return;
  }
  const std::string kind = text.substr(0, eq);
  if (kind.empty()) throw InputError("--threshold '" + text + "': the kind before '=' is empty");
  into.by_kind[kind] = parse_fraction(text.substr(eq + 1), text);
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kFaster:
      return "faster";
    case Verdict::kSlower:
      return "slower";
    case Verdict::kSame:
      return "same";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "?";
}

std::size_t Comparison::count(Verdict v) const {
  return static_cast<std::size_t>(std::count_if(entries.begin(), entries.end(),
                                                [v](const Entry& e) { return e.verdict == v; }));
}

std::size_t Comparison::missing_now() const {
  return only_baseline.size() + static_cast<std::size_t>(std::count_if(
                                    not_measured.begin(), not_measured.end(),
                                    [](const Unmatched& u) { return !u.m.measured(); }));
}

void judge(Entry& e, const CompareOptions& opt) {
  const auto& x = e.baseline.seconds;
  const auto& y = e.current.seconds;
  e.base_stats = summarize(x);
  e.cur_stats = summarize(y);
  e.change = e.cur_stats.median / e.base_stats.median - 1.0;
  e.noise_floor = opt.noise_factor * e.base_stats.rel_spread;
  e.threshold = std::max(opt.thresholds.for_kind(e.current.kind), e.noise_floor);
  e.test = mann_whitney(x, y);
  // The interval of the ratio comes from the shift of log times.
  std::vector<double> lx(x.size()), ly(y.size());
  std::transform(x.begin(), x.end(), lx.begin(), [](double v) { return std::log(v); });
  std::transform(y.begin(), y.end(), ly.begin(), [](double v) { return std::log(v); });
  const ShiftEstimate hl = hodges_lehmann(lx, ly, opt.confidence);
  e.ci_lo = std::expm1(hl.lo);
  e.ci_hi = std::expm1(hl.hi);
  e.ci_coverage = hl.coverage;
  e.ci_bounded = hl.bounded;

  const bool beyond = std::abs(e.change) > e.threshold;
  const bool significant = e.test.p_value < opt.alpha;
  // Only an interval inside the threshold shows the change is small: a narrow middle with a slow
  // tail can leave the median where it was.
  const bool interval_within = e.ci_lo >= -e.threshold && e.ci_hi <= e.threshold;
  const std::string thr = "±" + pct(e.threshold).substr(1);
  const std::string thr_why =
      e.threshold > opt.thresholds.for_kind(e.current.kind) ? " (noise floor)" : "";
  const std::string ci = "interval [" + pct(e.ci_lo) + ", " + pct(e.ci_hi) + "]";
  char p[32];
  std::snprintf(p, sizeof p, "p=%.2g", e.test.p_value);
  if (x.size() < opt.min_samples || y.size() < opt.min_samples) {
    e.verdict = Verdict::kInconclusive;
    e.reason = "too few samples (" + std::to_string(x.size()) + " and " + std::to_string(y.size()) +
               "; the U test needs " + std::to_string(opt.min_samples) + " a side)";
  } else if (significant && beyond) {
    e.verdict = e.change > 0 ? Verdict::kSlower : Verdict::kFaster;
    e.reason = std::string(e.change > 0 ? "slower" : "faster") + " by " +
               pct(std::abs(e.change)).substr(1) + ", beyond " + thr + thr_why + ", " + p;
  } else if (interval_within && significant) {
    e.verdict = Verdict::kSame;
    e.reason = "change " + pct(e.change) + " is real (" + p + ") but its " + ci + " is within " +
               thr + thr_why;
  } else if (interval_within) {
    e.verdict = Verdict::kSame;
    e.reason =
        "no significant change (" + std::string(p) + "); its " + ci + " is within " + thr + thr_why;
  } else {
    e.verdict = Verdict::kInconclusive;
    e.reason = "too noisy to tell: change " + pct(e.change) + " (" + p + ") but its " + ci +
               " reaches beyond " + thr + thr_why;
  }
}

std::vector<std::string> device_flags(const std::optional<DeviceInfo>& base,
                                      const std::optional<DeviceInfo>& cur) {
  std::vector<std::string> f;
  if (!base || !cur) {
    if (base.has_value() != cur.has_value())
      f.push_back(std::string("device unknown in the ") + (base ? "current" : "baseline") +
                  " file");
    return f;
  }
  if (base->name != cur->name)
    f.push_back("different GPU model: " + base->name + " vs " + cur->name);
  else if (base->sms != cur->sms)
    f.push_back("different SM count: " + std::to_string(base->sms) + " vs " +
                std::to_string(cur->sms));
  if (base->driver_release != cur->driver_release || base->driver_version != cur->driver_version)
    f.push_back("different driver: " + version_text(*base) + " vs " + version_text(*cur));
  if (base->runtime_version != cur->runtime_version)
    f.push_back("different CUDA runtime: " + std::to_string(base->runtime_version) + " vs " +
                std::to_string(cur->runtime_version));
  if (base->cublas_version != cur->cublas_version)
    f.push_back("different cuBLAS: " + std::to_string(base->cublas_version) + " vs " +
                std::to_string(cur->cublas_version));
  if (base->nccl_version != cur->nccl_version)
    f.push_back("different NCCL: " + std::to_string(base->nccl_version) + " vs " +
                std::to_string(cur->nccl_version));
  return f;
}

std::optional<double> datasheet_peak(const Measurement& m, const Figure& f, const SpecDb* db) {
  // The peaks a result was written with win: {"flops"|"bandwidth": {"datasheet": {"value": v}}}.
  if (m.peaks.is_object()) {
    const char* section = f.metric == "flop_per_s" ? "flops" : "bandwidth";
    const auto ptr = nlohmann::json::json_pointer("/" + std::string(section) + "/datasheet/value");
    if (m.peaks.contains(ptr) && m.peaks[ptr].is_number()) return m.peaks[ptr].get<double>();
  }
  if (!db || !m.device) return std::nullopt;
  const DevicePeaks p = device_peaks(*db, *m.device);
  if (f.metric == "flop_per_s") {
    if (!m.params.contains("dtype") || !m.params["dtype"].is_string()) return std::nullopt;
    const std::string dt = spec_dtype(m.params["dtype"].get<std::string>());
    for (const auto& e : p.flops)
      if (e.dtype == dt) return e.datasheet;
    return std::nullopt;
  }
  if (f.metric == "bytes_per_s") return p.hbm_bandwidth;
  return std::nullopt;  // bus bandwidth has no datasheet figure in the spec data
}

Comparison compare_results(const std::vector<Measurement>& baseline,
                           const std::vector<Measurement>& current, const CompareOptions& opt,
                           const SpecDb* db) {
  check_threshold_kinds(opt.thresholds, baseline, current);
  Comparison c;
  c.options = opt;
  std::map<std::string, const Measurement*> base_by_key;
  for (const auto& m : baseline) base_by_key.emplace(m.key(), &m);
  std::set<std::string> matched, flags;
  for (const auto& cur : current) {
    const auto it = base_by_key.find(cur.key());
    if (it == base_by_key.end()) {
      c.only_current.push_back({cur, "no baseline result with this name, parameters and device"});
      continue;
    }
    matched.insert(cur.key());
    const Measurement& base = *it->second;
    if (!base.measured() || !cur.measured()) {
      const Measurement& missing = cur.measured() ? base : cur;
      c.not_measured.push_back({cur, std::string(cur.measured() ? "baseline" : "current") +
                                         " status '" + missing.status + "'" +
                                         (missing.reason.empty() ? "" : ": " + missing.reason)});
      continue;
    }
    Entry e;
    e.baseline = base;
    e.current = cur;
    judge(e, opt);
    e.flags = device_flags(base.device, cur.device);
    for (const auto& f : e.flags) flags.insert(f);
    e.base_figure = headline_figure(base);
    e.cur_figure = headline_figure(cur);
    if (e.cur_figure) e.datasheet = datasheet_peak(cur, *e.cur_figure, db);
    c.entries.push_back(std::move(e));
  }
  for (const auto& m : baseline)
    if (!matched.count(m.key())) c.only_baseline.push_back({m, "not in the current results"});
  c.flags.assign(flags.begin(), flags.end());
  return c;
}

json to_json(const Comparison& c) {
  json entries = json::array();
  for (const auto& e : c.entries) {
    json j = measurement_ref(e.current);
    j["baseline_file"] = e.baseline.file;
    j["baseline"] = {{"stats", goodput::to_json(e.base_stats)},
                     {"figure", figure_json(e.base_figure)}};
    j["current"] = {{"stats", goodput::to_json(e.cur_stats)},
                    {"figure", figure_json(e.cur_figure)}};
    j["change"] = e.change;
    j["ci"] = {{"lo", e.ci_lo},
               {"hi", e.ci_hi},
               {"level", c.options.confidence},
               {"coverage", e.ci_coverage},
               {"bounded", e.ci_bounded},
               {"method", "Hodges-Lehmann interval of the time ratio"}};
    j["test"] = {{"method", "Mann-Whitney U"},
                 {"u", e.test.u},
                 {"p_value", e.test.p_value},
                 {"exact", e.test.exact},
                 {"ties", e.test.ties}};
    j["threshold"] = e.threshold;
    j["noise_floor"] = e.noise_floor;
    j["verdict"] = to_string(e.verdict);
    j["reason"] = e.reason;
    j["flags"] = e.flags;
    if (e.datasheet) {
      j["datasheet"] = *e.datasheet;
      if (e.cur_figure) j["current"]["of_datasheet"] = e.cur_figure->value / *e.datasheet;
      if (e.base_figure && e.base_figure->metric == e.cur_figure->metric)
        j["baseline"]["of_datasheet"] = e.base_figure->value / *e.datasheet;
    }
    entries.push_back(std::move(j));
  }
  auto unmatched = [](const std::vector<Unmatched>& v) {
    json a = json::array();
    for (const auto& u : v) {
      json j = measurement_ref(u.m);
      j["why"] = u.why;
      a.push_back(std::move(j));
    }
    return a;
  };
  json thresholds = {{"default", c.options.thresholds.fallback}};
  for (const auto& [k, v] : c.options.thresholds.by_kind) thresholds[k] = v;
  return {{"baseline_files", c.baseline_files},
          {"current_files", c.current_files},
          {"options",
           {{"thresholds", thresholds},
            {"alpha", c.options.alpha},
            {"confidence", c.options.confidence},
            {"min_samples", c.options.min_samples},
            {"noise_factor", c.options.noise_factor}}},
          {"summary",
           {{"compared", c.entries.size()},
            {"faster", c.count(Verdict::kFaster)},
            {"slower", c.count(Verdict::kSlower)},
            {"same", c.count(Verdict::kSame)},
            {"inconclusive", c.count(Verdict::kInconclusive)},
            {"only_baseline", c.only_baseline.size()},
            {"only_current", c.only_current.size()},
            {"not_measured", c.not_measured.size()},
            {"regressed", c.regressed()}}},
          {"flags", c.flags},
          {"entries", entries},
          {"only_baseline", unmatched(c.only_baseline)},
          {"only_current", unmatched(c.only_current)},
          {"not_measured", unmatched(c.not_measured)}};
}

Inputs load_inputs(const std::vector<std::string>& paths, const std::string& baseline_dir) {
  Inputs in;
  if (baseline_dir.empty()) {
    if (paths.size() < 2)
      throw InputError("need a baseline and at least one current results file (or --baseline-dir)");
    in.baseline.push_back(load_results(paths.front()));
    for (std::size_t i = 1; i < paths.size(); ++i) in.current.push_back(load_results(paths[i]));
    return in;
  }
  if (paths.empty()) throw InputError("need at least one current results file");
  for (const auto& p : paths) in.current.push_back(load_results(p));
  const ResultsFile& first = in.current.front();
  if (first.devices.empty())
    throw InputError(first.path +
                     ": field 'devices' is empty, so --baseline-dir cannot pick the SKU");
  for (const auto& p : baseline_files_for(baseline_dir, first.devices.front().name))
    in.baseline.push_back(load_results(p));
  return in;
}

Comparison compare_inputs(const Inputs& in, const CompareOptions& opt, const SpecDb* db) {
  Comparison c = compare_results(merge_results(in.baseline), merge_results(in.current), opt, db);
  for (const auto& f : in.baseline) c.baseline_files.push_back(f.path);
  for (const auto& f : in.current) c.current_files.push_back(f.path);
  return c;
}

std::unique_ptr<SpecDb> spec_db_or_warn() {
  try {
    return std::make_unique<SpecDb>(load_default_spec_db());
  } catch (const Error& e) {
    std::fprintf(stderr, "goodput: no datasheet comparison: %s\n", e.what());
    return nullptr;
  }
}

}  // namespace goodput::compare
