// `goodput calibrate`: the reachable peak of the card in hand (HBM bandwidth, GEMM FLOP/s per data
// type) beside its datasheet and clock-derived peaks, written as a peak profile.
#include <cstdio>
#include <memory>

#include "collectives/calibration.hpp"
#include "harness/cli/calibration.hpp"
#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "harness/core/signals.hpp"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/telemetry.hpp"
#include "harness/gpu/timer.hpp"

namespace goodput::cli {
namespace {

// all_reduce and all_gather busbw over every visible GPU; a failure there is recorded as a result
// and does not lose the kernel results already written.
nlohmann::json run_collectives(ResultsWriter* out, bool quick, bool* check_failed,
                               bool* runtime_error) {
  nlohmann::json best = nlohmann::json::object();
  try {
    const nlohmann::json results = collectives::calibration_busbw(gpu::list_devices(), quick);
    for (const auto& r : results) {
      out->add_result(r);
      const std::string name = r.value("name", "collective");
      const auto& rates = r.value("rates", nlohmann::json::object());
      if (r.value("status", "") != "ok" || !rates.contains("busbw")) {
        std::printf("%s: %s\n", name.c_str(), r.value("status", std::string("?")).c_str());
        continue;
      }
      std::printf("%s: busbw %.1f GB/s, algbw %.1f GB/s\n", name.c_str(),
                  rates["busbw"].get<double>() / 1e9, rates.value("algbw", 0.0) / 1e9);
    }
    best = collectives::best_busbw(results);
  } catch (const CheckFailed& e) {
    *check_failed = true;
    out->add_result({{"name", "collectives"},
                     {"kind", "collective"},
                     {"status", "error"},
                     {"error", std::string("verification failed: ") + e.what()}});
  } catch (const Error& e) {
    *runtime_error = *runtime_error || e.exit_code() != kExitInterrupted;
    out->add_result({{"name", "collectives"},
                     {"kind", "collective"},
                     {"status", "error"},
                     {"error", e.what()}});
  }
  return best;
}

nlohmann::json telemetry_now(const DeviceInfo& dev) {
  auto j = to_json(gpu::sample_telemetry(dev));
  j["time"] = iso8601_now();
  return j;
}

int run_calibrate(const SuiteOptions& o, const Invocation& inv) {
  std::unique_ptr<SuiteRun> run;
  try {
    run = start_suite_run(o, "calibrate", inv);
    const DeviceInfo& dev = run->dev;
    const PeakContext& ctx = run->ctx;
    ResultsWriter* out = run->out.get();
    const TimingConfig cfg = default_timing(o.quick);
    nlohmann::json regime = out->document()["regime"];

    auto workloads = o.only == "collectives" ? std::vector<WorkloadPtr>{}
                                             : calibration_workloads(dev, o.quick, o.only);
    std::printf("calibrating %s (%s), %zu benchmarks%s; results: %s\n", dev.name.c_str(),
                ctx.peaks.match == SpecMatch::kExact ? ctx.peaks.spec_name.c_str()
                                                     : "no exact spec match: derived peaks",
                workloads.size(), o.quick ? ", quick" : "", out->path().c_str());
    std::vector<TelemetrySample> all_telemetry;
    std::string fatal;
    bool check_failed = false, runtime_error = false;
    for (std::size_t i = 0; i < workloads.size() && !interrupted(); ++i) {
      const Measurement m = gpu::measure(*workloads[i], dev, cfg);
      all_telemetry.insert(all_telemetry.end(), m.telemetry.begin(), m.telemetry.end());
      const nlohmann::json r = measurement_to_json(m, &ctx);
      out->add_result(r);
      std::printf("[%zu/%zu] %s\n", i + 1, workloads.size(), progress_line(r).c_str());
      std::fflush(stdout);
      if (m.status == "error") {
        const bool verification = m.message.rfind("verification failed", 0) == 0;
        check_failed = check_failed || verification;
        runtime_error = runtime_error || !verification;
      }
      if (m.fatal) {
        fatal = m.name + ": " + m.message;
        break;
      }
    }

    nlohmann::json interconnect;
    if (fatal.empty() && !interrupted() && (o.only.empty() || o.only == "collectives"))
      interconnect = run_collectives(out, o.quick, &check_failed, &runtime_error);

    regime["after"] = fatal.empty() ? telemetry_now(dev) : nlohmann::json("not available");
    regime["during"] = summarize_telemetry(all_telemetry);
    out->set("regime", regime);
    auto profile =
        build_peak_profile(out->document()["results"], ctx, median_sm_clock(all_telemetry));
    if (!interconnect.is_null()) profile["interconnect"] = interconnect;
    profile["quick"] = o.quick;
    profile["only"] = o.only.empty() ? "all" : o.only;
    profile["timing"] = to_json(cfg);
    out->set("peak_profile", profile);
    std::printf("\n%s", summary_table(profile).c_str());
    std::printf("results written to %s\n", out->path().c_str());

    if (!fatal.empty()) {
      out->finish("failed", fatal);
      throw RuntimeFailure(fatal);
    }
    if (interrupted()) {
      out->finish("interrupted");
      return kExitInterrupted;
    }
    out->finish("complete");
    if (check_failed) {
      std::fprintf(stderr,
                   "goodput calibrate: a kernel produced wrong results (see 'error' in %s)\n",
                   out->path().c_str());
      return kExitCheckFailed;
    }
    if (runtime_error) {
      std::fprintf(stderr, "goodput calibrate: some benchmarks failed (see 'error' in %s)\n",
                   out->path().c_str());
      return kExitRuntime;
    }
    return kExitOk;
  } catch (const Error& e) {
    record_failure(run.get(), o, "calibrate", inv, e.what());
    throw;
  }
}

}  // namespace

Command calibrate_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "calibrate", "Measure reachable HBM bandwidth and GEMM FLOP/s per data type (peak profile)");
  auto o = std::make_shared<SuiteOptions>();
  add_suite_options(sub, *o, "calibrate");
  return {sub, [o](const Invocation& inv) { return run_calibrate(*o, inv); }};
}

}  // namespace goodput::cli
