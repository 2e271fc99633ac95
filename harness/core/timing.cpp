#include "harness/core/timing.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <utility>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "harness/core/stats.hpp"

namespace goodput {

TimingConfig default_timing(bool quick) {
  TimingConfig c;
  if (quick) {
    c.warmup_budget_s = 0.2;
    c.min_samples = 5;
    c.max_samples = 50;
    c.target_rel_spread = 0.02;
    c.budget_s = 0.4;
  }
  return c;
}

void validate(const TimingConfig& c) {
  auto need = [](bool ok, const char* field, const char* why) {
    if (!ok) throw InputError(std::string("timing config: ") + field + " " + why);
  };
  need(c.warmup_min_iters >= 0, "warmup_min_iters", "must be >= 0");
  need(c.warmup_max_iters >= c.warmup_min_iters, "warmup_max_iters", "must be >= warmup_min_iters");
  need(c.settle_window >= 2, "settle_window", "must be >= 2");
  need(c.settle_tolerance > 0, "settle_tolerance", "must be > 0");
  need(c.warmup_budget_s >= 0, "warmup_budget_s", "must be >= 0");
  need(c.min_samples >= 1, "min_samples", "must be >= 1");
  need(c.max_samples >= c.min_samples, "max_samples", "must be >= min_samples");
  need(c.target_rel_spread >= 0, "target_rel_spread", "must be >= 0");
  need(c.budget_s > 0, "budget_s", "must be > 0");
}

nlohmann::json to_json(const TimingConfig& c) {
  return {{"warmup_min_iters", c.warmup_min_iters},
          {"warmup_max_iters", c.warmup_max_iters},
          {"settle_window", c.settle_window},
          {"settle_tolerance", c.settle_tolerance},
          {"warmup_budget_s", c.warmup_budget_s},
          {"min_samples", c.min_samples},
          {"max_samples", c.max_samples},
          {"target_rel_spread", c.target_rel_spread},
          {"budget_s", c.budget_s},
          {"flush_l2", c.flush_l2}};
}

const char* to_string(WarmupEnd w) {
  switch (w) {
    case WarmupEnd::kNotDone:
      return "not_done";
    case WarmupEnd::kSettled:
      return "settled";
    case WarmupEnd::kMaxIters:
      return "max_iterations";
    case WarmupEnd::kBudget:
      return "budget";
  }
  return "?";
}

WarmupEnd warmup_status(const std::vector<double>& times, double elapsed_s, const TimingConfig& c) {
  const auto n = static_cast<int>(times.size());
  if (n >= c.warmup_min_iters && n >= c.settle_window) {
    const auto first = times.end() - c.settle_window;
    const auto [lo, hi] = std::minmax_element(first, times.end());
    if (*lo > 0 && (*hi - *lo) / *lo <= c.settle_tolerance) return WarmupEnd::kSettled;
  }
  if (n >= c.warmup_max_iters) return WarmupEnd::kMaxIters;
  if (n >= 1 && elapsed_s >= c.warmup_budget_s) return WarmupEnd::kBudget;
  return WarmupEnd::kNotDone;
}

const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::kContinue:
      return "continue";
    case StopReason::kSpreadReached:
      return "spread_reached";
    case StopReason::kMaxSamples:
      return "max_samples";
    case StopReason::kBudget:
      return "budget";
    case StopReason::kInterrupted:
      return "interrupted";
  }
  return "?";
}

StopReason stop_status(const std::vector<double>& samples, double elapsed_s,
                       const TimingConfig& c) {
  const auto n = static_cast<int>(samples.size());
  if (n >= c.max_samples) return StopReason::kMaxSamples;
  if (n >= c.min_samples && summarize(samples).rel_spread <= c.target_rel_spread)
    return StopReason::kSpreadReached;
  if (elapsed_s >= c.budget_s && n >= std::min(c.min_samples, kMinSamplesUnderBudget))
    return StopReason::kBudget;
  return StopReason::kContinue;
}

bool throttled_by(std::uint64_t reasons) {
  return (reasons & ~kClocksEventIgnored) != 0;
}

std::vector<std::string> clocks_event_reason_names(std::uint64_t reasons) {
  static const std::pair<std::uint64_t, const char*> kNames[] = {
      {0x1, "gpu_idle"},
      {0x2, "applications_clocks_setting"},
      {0x4, "sw_power_cap"},
      {0x8, "hw_slowdown"},
      {0x10, "sync_boost"},
      {0x20, "sw_thermal_slowdown"},
      {0x40, "hw_thermal_slowdown"},
      {0x80, "hw_power_brake_slowdown"},
      {0x100, "display_clock_setting"}};
  std::vector<std::string> out;
  std::uint64_t known = 0;
  for (const auto& [bit, name] : kNames) {
    known |= bit;
    if (reasons & bit) out.emplace_back(name);
  }
  if (reasons & ~known) out.emplace_back("unknown");
  return out;
}

namespace {

template <class T>
nlohmann::json opt_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json("not available");
}

nlohmann::json null_or(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// min/median/max of the values a field has in the samples that report it.
nlohmann::json range_of(const std::vector<TelemetrySample>& samples,
                        std::optional<double> TelemetrySample::*field) {
  std::vector<double> v;
  for (const auto& s : samples)
    if (s.*field) v.push_back(*(s.*field));
  if (v.empty()) return "not available";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {{"min", *lo}, {"median", median(v)}, {"max", *hi}};
}

}  // namespace

nlohmann::json to_json(const TelemetrySample& s) {
  nlohmann::json j = {{"sm_clock_mhz", opt_json(s.sm_clock_mhz)},
                      {"mem_clock_mhz", opt_json(s.mem_clock_mhz)},
                      {"power_w", opt_json(s.power_w)},
                      {"temperature_c", opt_json(s.temperature_c)},
                      {"clocks_event_reasons", opt_json(s.clocks_event_reasons)},
                      {"throttled", s.throttled}};
  if (s.clocks_event_reasons) j["reasons"] = clocks_event_reason_names(*s.clocks_event_reasons);
  return j;
}

nlohmann::json summarize_telemetry(const std::vector<TelemetrySample>& samples) {
  std::uint64_t reasons = 0;
  bool any_reasons = false;
  std::size_t throttled = 0;
  for (const auto& s : samples) {
    if (s.clocks_event_reasons) {
      reasons |= *s.clocks_event_reasons;
      any_reasons = true;
    }
    if (s.throttled) ++throttled;
  }
  nlohmann::json names = nlohmann::json::array();
  for (const auto& n : clocks_event_reason_names(reasons)) names.push_back(n);
  return {{"samples", samples.size()},
          {"sm_clock_mhz", range_of(samples, &TelemetrySample::sm_clock_mhz)},
          {"mem_clock_mhz", range_of(samples, &TelemetrySample::mem_clock_mhz)},
          {"power_w", range_of(samples, &TelemetrySample::power_w)},
          {"temperature_c", range_of(samples, &TelemetrySample::temperature_c)},
          {"clocks_event_reasons_seen", any_reasons ? nlohmann::json(names) : "not available"},
          {"throttled_samples", throttled}};
}

std::optional<double> median_sm_clock(const std::vector<TelemetrySample>& samples) {
  std::vector<double> v;
  for (const auto& s : samples)
    if (s.sm_clock_mhz) v.push_back(*s.sm_clock_mhz);
  if (v.empty()) return std::nullopt;
  return median(v);
}

std::optional<std::string> peak_dtype_for(const std::string& gemm_dtype, const DevicePeaks& peaks) {
  std::string d = gemm_dtype;
  std::transform(d.begin(), d.end(), d.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  auto has = [&](const std::string& k) {
    return std::any_of(peaks.flops.begin(), peaks.flops.end(),
                       [&](const PeakEntry& e) { return e.dtype == k; });
  };
  if (d.rfind("fp8", 0) == 0 || d == "e4m3" || d == "e5m2") d = "fp8";
  if (d.rfind("fp4", 0) == 0 || d == "e2m1" || d == "nvfp4" || d == "mxfp4") d = "fp4";
  if (d == "fp64" && has("fp64_tensor")) d = "fp64_tensor";
  if (d == "float" || d == "f32") d = "fp32";
  if (d == "half" || d == "f16") d = "fp16";
  if (d == "double" || d == "f64") d = has("fp64_tensor") ? "fp64_tensor" : "fp64";
  if (!has(d)) return std::nullopt;
  return d;
}

nlohmann::json compare_to_peak(double measured, const std::optional<double>& peak) {
  if (!peak || *peak <= 0) return nullptr;
  return {{"value", *peak}, {"ratio", measured / *peak}};
}

nlohmann::json flops_peaks(const PeakContext& ctx, const std::string& dtype, double measured,
                           const std::optional<double>& observed_clock_mhz) {
  const auto it = std::find_if(ctx.peaks.flops.begin(), ctx.peaks.flops.end(),
                               [&](const PeakEntry& e) { return e.dtype == dtype; });
  if (it == ctx.peaks.flops.end()) return nullptr;
  nlohmann::json j = {{"dtype", dtype},
                      {"spec_match", to_string(ctx.peaks.match)},
                      {"datasheet", compare_to_peak(measured, it->datasheet)},
                      {"at_datasheet_clock", compare_to_peak(measured, it->at_datasheet_clock)},
                      {"at_max_clock", compare_to_peak(measured, it->at_max_clock)},
                      {"at_observed_clock", nullptr}};
  if (observed_clock_mhz && ctx.db) {
    const auto arch = ctx.db->archs.find(ctx.peaks.arch);
    if (arch != ctx.db->archs.end()) {
      const auto p = clock_peak(arch->second, dtype, ctx.device.sms, *observed_clock_mhz);
      auto c = compare_to_peak(measured, p);
      if (!c.is_null()) c["clock_mhz"] = *observed_clock_mhz;
      j["at_observed_clock"] = c;
    }
  }
  return j;
}

nlohmann::json measurement_to_json(const Measurement& m, const PeakContext* ctx) {
  nlohmann::json j = {{"name", m.name},
                      {"kind", m.kind},
                      {"status", m.status},
                      {"params", m.params},
                      {"footprint_bytes", m.footprint_bytes},
                      {"details", m.details}};
  if (!m.message.empty()) j[m.status == "skipped" ? "reason" : "error"] = m.message;
  j["warmup"] = {{"iterations", m.warmup_times.size()},
                 {"end", to_string(m.warmup_end)},
                 {"times_s", m.warmup_times}};
  j["stop_reason"] = to_string(m.stop_reason);
  j["samples_s"] = m.samples;
  nlohmann::json tel = nlohmann::json::array();
  for (const auto& s : m.telemetry) tel.push_back(to_json(s));
  j["telemetry"] = {{"per_sample", tel}, {"summary", summarize_telemetry(m.telemetry)}};
  if (m.samples.empty()) return j;

  const Stats st = summarize(m.samples);
  j["stats"] = to_json(st);
  std::size_t throttled = 0;
  for (const auto& s : m.telemetry) throttled += s.throttled ? 1 : 0;
  j["throttled_samples"] = throttled;

  nlohmann::json derived = {{"flop_per_run", m.flops_per_run}, {"bytes_per_run", m.bytes_per_run}};
  const double flops = m.flops_per_run > 0 ? m.flops_per_run / st.median : 0;
  const double bytes = m.bytes_per_run > 0 ? m.bytes_per_run / st.median : 0;
  if (m.flops_per_run > 0) {
    derived["flops_per_s"] = flops;
    derived["flops_per_s_best"] = m.flops_per_run / st.min;
  }
  if (m.bytes_per_run > 0) {
    derived["bytes_per_s"] = bytes;
    derived["bytes_per_s_best"] = m.bytes_per_run / st.min;
  }
  j["derived"] = derived;

  if (ctx) {
    nlohmann::json peaks = nlohmann::json::object();
    const auto clock = median_sm_clock(m.telemetry);
    if (clock) peaks["observed_sm_clock_mhz"] = *clock;
    if (m.flops_per_run > 0 && m.params.contains("dtype") && m.params["dtype"].is_string()) {
      if (const auto dt = peak_dtype_for(m.params["dtype"].get<std::string>(), ctx->peaks))
        peaks["flops"] = flops_peaks(*ctx, *dt, flops, clock);
    }
    if (m.bytes_per_run > 0 && m.kind == "memory")
      peaks["bandwidth"] = {{"datasheet", compare_to_peak(bytes, ctx->peaks.hbm_bandwidth)}};
    j["peaks"] = peaks;
  }
  return j;
}

namespace {

double number_at(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b) || !j[a][b].is_number()) return 0;
  return j[a][b].get<double>();
}

std::optional<double> result_clock(const nlohmann::json& r) {
  if (r.contains("peaks") && r["peaks"].contains("observed_sm_clock_mhz"))
    return r["peaks"]["observed_sm_clock_mhz"].get<double>();
  return std::nullopt;
}

nlohmann::json best_entry(const nlohmann::json& r, const char* rate, const char* rate_best) {
  nlohmann::json b = {{"result", r.value("name", "")},
                      {"params", r.value("params", nlohmann::json::object())},
                      {rate, number_at(r, "derived", rate)},
                      {rate_best, number_at(r, "derived", rate_best)},
                      {"rel_spread", number_at(r, "stats", "rel_spread")},
                      {"samples", number_at(r, "stats", "n")},
                      {"throttled_samples", r.value("throttled_samples", 0)},
                      {"algorithm", nullptr}};
  const auto& d = r.value("details", nlohmann::json::object());
  if (d.is_object()) {
    for (const char* key : {"algorithm", "algo", "heuristic"})
      if (d.contains(key)) {
        b["algorithm"] = d[key];
        break;
      }
  }
  const auto clock = result_clock(r);
  b["observed_sm_clock_mhz"] = null_or(clock);
  return b;
}

}  // namespace

nlohmann::json build_peak_profile(const nlohmann::json& results, const PeakContext& ctx,
                                  const std::optional<double>& run_observed_clock_mhz) {
  // Best (median-rate) ok result per gemm dtype and per memory op.
  std::map<std::string, const nlohmann::json*> best_gemm, best_mem;
  std::size_t ok = 0, skipped = 0, failed = 0;
  for (const auto& r : results) {
    const std::string status = r.value("status", "");
    if (status == "skipped") ++skipped;
    if (status == "error") ++failed;
    if (status != "ok") continue;
    ++ok;
    const std::string kind = r.value("kind", "");
    const auto& params = r.value("params", nlohmann::json::object());
    if (kind == "gemm" && params.contains("dtype") && number_at(r, "derived", "flops_per_s") > 0) {
      const std::string dt = params["dtype"].get<std::string>();
      const auto* cur = best_gemm[dt];
      if (!cur ||
          number_at(r, "derived", "flops_per_s") > number_at(*cur, "derived", "flops_per_s"))
        best_gemm[dt] = &r;
    } else if (kind == "memory" && params.contains("op") &&
               number_at(r, "derived", "bytes_per_s") > 0) {
      const std::string op = params["op"].get<std::string>();
      const auto* cur = best_mem[op];
      if (!cur ||
          number_at(r, "derived", "bytes_per_s") > number_at(*cur, "derived", "bytes_per_s"))
        best_mem[op] = &r;
    }
  }

  nlohmann::json gemm = nlohmann::json::object();
  for (const auto& [dt, r] : best_gemm) {
    const double rate = number_at(*r, "derived", "flops_per_s");
    nlohmann::json e = {{"best", best_entry(*r, "flops_per_s", "flops_per_s_best")}};
    const auto peak_dt = peak_dtype_for(dt, ctx.peaks);
    const auto clock = result_clock(*r) ? result_clock(*r) : run_observed_clock_mhz;
    e["peaks"] = peak_dt ? flops_peaks(ctx, *peak_dt, rate, clock) : nlohmann::json();
    gemm[dt] = e;
  }

  nlohmann::json ops = nlohmann::json::object();
  std::string best_op;
  double best_rate = 0;
  for (const auto& [op, r] : best_mem) {
    const double rate = number_at(*r, "derived", "bytes_per_s");
    ops[op] = {{"best", best_entry(*r, "bytes_per_s", "bytes_per_s_best")},
               {"datasheet", compare_to_peak(rate, ctx.peaks.hbm_bandwidth)}};
    if (rate > best_rate) {
      best_rate = rate;
      best_op = op;
    }
  }
  nlohmann::json memory = {
      {"datasheet_bytes_per_s", null_or(ctx.peaks.hbm_bandwidth)}, {"ops", ops}, {"best", nullptr}};
  if (!best_op.empty())
    memory["best"] = {{"op", best_op},
                      {"bytes_per_s", best_rate},
                      {"datasheet", compare_to_peak(best_rate, ctx.peaks.hbm_bandwidth)}};

  const DeviceInfo& d = ctx.device;
  nlohmann::json provenance = {
      {"device", d.name},
      {"uuid", d.uuid},
      {"sms", d.sms},
      {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)},
      {"sm_clock_mhz_max", d.sm_clock_mhz_max},
      {"driver_release", d.driver_release},
      {"driver_version", d.driver_version},
      {"runtime_version", d.runtime_version},
      {"cublas_version", d.cublas_version},
      {"spec_match", to_string(ctx.peaks.match)},
      {"spec_name", ctx.peaks.spec_name},
      {"spec_note", ctx.peaks.note}};
  return {{"unit_flops", "flop/s"},
          {"unit_bandwidth", "bytes/s"},
          {"rate", "work per run / median sample time"},
          {"observed_sm_clock_mhz", null_or(run_observed_clock_mhz)},
          {"gemm", gemm},
          {"memory", memory},
          {"results", {{"ok", ok}, {"skipped", skipped}, {"error", failed}}},
          {"provenance", provenance}};
}

}  // namespace goodput
