// The timing policy of the harness as pure functions: when warm-up is over, when to stop sampling,
// which NVML clock-event reasons mean "throttled", and how one measurement becomes a result in the
// results document. The GPU side (harness/gpu/timer.hpp) only collects samples and asks these.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/device_info.hpp"
#include "harness/core/gpu_spec.hpp"

namespace goodput {

struct TimingConfig {
  // Warm-up: at least warmup_min_iters runs, then done once the last settle_window run times lie
  // within settle_tolerance of each other (clocks and caches have settled), or a limit is hit.
  int warmup_min_iters = 3;
  int warmup_max_iters = 200;
  int settle_window = 3;
  double settle_tolerance = 0.02;
  double warmup_budget_s = 1.0;
  // Sampling: at least min_samples, stop once the robust relative spread (1.4826 MAD / median)
  // is at most target_rel_spread, at max_samples, or when budget_s of wall time is spent (with at
  // least kMinSamplesUnderBudget samples even then).
  int min_samples = 10;
  int max_samples = 500;
  double target_rel_spread = 0.01;
  double budget_s = 3.0;
  bool flush_l2 = true;  // write a scratch buffer >= 2x L2 before each sample (cold caches)
};
inline constexpr int kMinSamplesUnderBudget = 3;

// Defaults for `calibrate` and `calibrate --quick`.
TimingConfig default_timing(bool quick);
// InputError naming the field when a config is inconsistent.
void validate(const TimingConfig& c);
nlohmann::json to_json(const TimingConfig& c);

enum class WarmupEnd { kNotDone, kSettled, kMaxIters, kBudget };
const char* to_string(WarmupEnd w);
// times: every warm-up run time so far (seconds); elapsed_s: wall time spent warming up.
WarmupEnd warmup_status(const std::vector<double>& times, double elapsed_s, const TimingConfig& c);

enum class StopReason { kContinue, kSpreadReached, kMaxSamples, kBudget, kInterrupted };
const char* to_string(StopReason r);
// samples: every timed sample so far (seconds); elapsed_s: wall time spent sampling.
StopReason stop_status(const std::vector<double>& samples, double elapsed_s, const TimingConfig& c);

// NVML clock-event reasons (nvml.h nvmlClocksEventReason*). Idle, application-clock and
// display-clock settings describe configuration, not a slowdown; every other bit (power cap, HW
// slowdown, thermal, power brake, sync boost) means the sample ran below the clock it could reach.
inline constexpr std::uint64_t kClocksEventIgnored = 0x1 | 0x2 | 0x100;
bool throttled_by(std::uint64_t reasons);
std::vector<std::string> clocks_event_reason_names(std::uint64_t reasons);

// Per-sample regime; every field may be absent ("not available" in JSON).
struct TelemetrySample {
  std::optional<double> sm_clock_mhz;
  std::optional<double> mem_clock_mhz;
  std::optional<double> power_w;
  std::optional<double> temperature_c;
  std::optional<std::uint64_t> clocks_event_reasons;
  bool throttled = false;  // throttled_by(clocks_event_reasons)
};
nlohmann::json to_json(const TelemetrySample& s);
// Summary of many samples: min/median/max of clocks, power and temperature, reasons seen, count
// of throttled samples.
nlohmann::json summarize_telemetry(const std::vector<TelemetrySample>& samples);
// Median SM clock of the samples that report one.
std::optional<double> median_sm_clock(const std::vector<TelemetrySample>& samples);

// One workload measured: what the GPU side collected, before any arithmetic.
struct Measurement {
  std::string name;  // "gemm/bf16/8192x8192x8192"
  std::string kind;  // "memory", "gemm", ...
  nlohmann::json params = nlohmann::json::object();
  double flops_per_run = 0;
  double bytes_per_run = 0;
  std::size_t footprint_bytes = 0;
  std::vector<double> samples;             // seconds, one per timed run
  std::vector<TelemetrySample> telemetry;  // one per sample when available
  std::vector<double> warmup_times;        // seconds
  WarmupEnd warmup_end = WarmupEnd::kNotDone;
  StopReason stop_reason = StopReason::kContinue;
  std::string status = "ok";  // "ok", "skipped" (reason in message), "error" (message)
  std::string message;
  nlohmann::json details = nlohmann::json::object();
  bool fatal = false;  // the device context is unusable after this workload: stop the run
};

// What measured rates are compared with.
struct PeakContext {
  const SpecDb* db = nullptr;  // for clock-derived peaks at the observed clock
  DeviceInfo device;
  DevicePeaks peaks;
};

// The peak dtype (gpu_specs.json) a GEMM of this data type is held against: fp8 variants -> fp8,
// fp64 -> fp64_tensor where the part has it. nullopt for unknown types.
std::optional<std::string> peak_dtype_for(const std::string& gemm_dtype, const DevicePeaks& peaks);

// Measured value beside a peak: {"value": v, "ratio": measured / v}, or null when unknown.
nlohmann::json compare_to_peak(double measured, const std::optional<double>& peak);

// Compute peaks for `dtype`: datasheet, clock-derived at the datasheet, max and observed clock.
nlohmann::json flops_peaks(const PeakContext& ctx, const std::string& dtype, double measured,
                           const std::optional<double>& observed_clock_mhz);

// The result JSON of one measurement: params, raw samples, stats, telemetry, derived rates
// (median-based and best-sample), peaks compared, warm-up, stop reason, status.
nlohmann::json measurement_to_json(const Measurement& m, const PeakContext* ctx);

// The `peak_profile` section from the results of a calibrate run: per dtype the best reachable
// FLOP/s (problem, algorithm), per memory op the best bandwidth, each beside its peaks.
nlohmann::json build_peak_profile(const nlohmann::json& results, const PeakContext& ctx,
                                  const std::optional<double>& run_observed_clock_mhz);

}  // namespace goodput
