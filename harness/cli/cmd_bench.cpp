// `goodput bench`: the calibration workloads as Google Benchmark benchmarks, so its usual flags
// (--benchmark_filter, --benchmark_repetitions, --benchmark_out, ...) work. Each iteration is
// timed with CUDA events (manual time); a reporter also writes our results schema.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "harness/cli/calibration.hpp"
#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "harness/core/signals.hpp"
#include "harness/gpu/telemetry.hpp"
#include "harness/gpu/timer.hpp"

#ifdef GOODPUT_HAVE_BENCHMARK
#include <benchmark/benchmark.h>
#endif

namespace goodput::cli {
namespace {

struct BenchOptions : SuiteOptions {
  bool warm = false;
};

#ifdef GOODPUT_HAVE_BENCHMARK

// Raw per-iteration times kept per benchmark for the results document (the newest ones).
constexpr std::size_t kMaxKeptSamples = 1000;

struct Record {
  Workload* w = nullptr;
  Measurement m;
  nlohmann::json gbench = nlohmann::json::array();  // Google Benchmark's own run reports
};

// Runs every benchmark of the session; keeps one workload set up across Google Benchmark's
// repeated calls (iteration estimation, repetitions) so setup and verification run once.
class BenchSession {
 public:
  BenchSession(const DeviceInfo& dev, const TimingConfig& cfg) : dev_(dev), cfg_(cfg) {}

  void run(benchmark::State& state, Record& rec) {
    if (lost_ || interrupted()) {
      state.SkipWithError(lost_ ? "not run: the CUDA context was lost earlier in this run"
                                : "not run: interrupted");
      return;
    }
    if (rec.m.status != "ok") {  // setup failed before: do not retry on every repetition
      state.SkipWithError((rec.m.status + ": " + rec.m.message).c_str());
      return;
    }
    try {
      if (current_ != &rec) start(rec);
      for (auto _ : state) {
        if (interrupted()) {
          state.SkipWithError("interrupted");
          break;
        }
        const double t = session_->time_one();
        state.SetIterationTime(t);
        keep(rec, t);
      }
      const auto iters = static_cast<double>(state.iterations());
      if (rec.m.flops_per_run > 0)
        state.counters["FLOP/s"] =
            benchmark::Counter(rec.m.flops_per_run * iters, benchmark::Counter::kIsRate);
      if (rec.m.bytes_per_run > 0)
        state.counters["bytes/s"] =
            benchmark::Counter(rec.m.bytes_per_run * iters, benchmark::Counter::kIsRate);
    } catch (const gpu::WorkloadSkipped& e) {
      fail(rec, "skipped", e.what());
      state.SkipWithError((std::string("skipped: ") + e.what()).c_str());
    } catch (const CheckFailed& e) {
      fail(rec, "error", std::string("verification failed: ") + e.what());
      state.SkipWithError(rec.m.message.c_str());
    } catch (const std::exception& e) {
      lost_ = gpu::context_lost();
      fail(rec, "error", e.what());
      state.SkipWithError(rec.m.message.c_str());
    }
  }

  void finish() {
    session_.reset();
    current_ = nullptr;
  }
  bool lost() const { return lost_; }

 private:
  void start(Record& rec) {
    finish();
    session_ = std::make_unique<gpu::TimedSession>(*rec.w, dev_, cfg_.flush_l2);
    current_ = &rec;
    rec.m.details = rec.w->details();
    // Warm up until the rate settles before Google Benchmark's first timed iteration.
    rec.m.warmup_times.clear();
    const auto t0 = std::chrono::steady_clock::now();
    do {
      rec.m.warmup_times.push_back(session_->time_one());
      rec.m.warmup_end = warmup_status(
          rec.m.warmup_times,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cfg_);
    } while (rec.m.warmup_end == WarmupEnd::kNotDone);
  }

  void keep(Record& rec, double t) {
    rec.m.samples.push_back(t);
    rec.m.telemetry.push_back(gpu::sample_telemetry(dev_));
    if (rec.m.samples.size() > kMaxKeptSamples) {
      rec.m.samples.erase(rec.m.samples.begin());
      rec.m.telemetry.erase(rec.m.telemetry.begin());
    }
  }

  void fail(Record& rec, const std::string& status, const std::string& message) {
    finish();
    rec.m.status = status;
    rec.m.message = message;
    rec.m.samples.clear();
    rec.m.telemetry.clear();
    if (lost_) rec.m.message += " (the CUDA context is lost; no further workload can run)";
  }

  DeviceInfo dev_;
  TimingConfig cfg_;
  std::unique_ptr<gpu::TimedSession> session_;
  Record* current_ = nullptr;
  bool lost_ = false;
};

// Google Benchmark's console output, plus our results document rewritten after every report.
class SchemaReporter : public benchmark::ConsoleReporter {
 public:
  SchemaReporter(ResultsWriter& out, std::map<std::string, Record>& records,
                 const std::vector<std::string>& order, const PeakContext& ctx)
      : out_(out), records_(records), order_(order), ctx_(ctx) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      const auto it = records_.find(run.run_name.function_name);
      if (it == records_.end()) continue;
      it->second.gbench.push_back(
          {{"name", run.benchmark_name()},
           {"run_type", run.run_type == Run::RT_Aggregate ? "aggregate" : "iteration"},
           {"aggregate", run.aggregate_name},
           {"repetition", run.repetition_index},
           {"iterations", run.iterations},
           {"real_time", run.GetAdjustedRealTime()},
           {"time_unit", benchmark::GetTimeUnitString(run.time_unit)},
           {"counters", counters(run)}});
      reported_.insert(it->first);
    }
    write();
  }

  void write() {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& name : order_) {
      if (!reported_.count(name)) continue;
      const Record& rec = records_.at(name);
      Measurement m = rec.m;
      m.stop_reason = StopReason::kMaxSamples;  // Google Benchmark decides the iteration count
      auto r = measurement_to_json(m, &ctx_);
      r["stop_reason"] = "google_benchmark";
      r["google_benchmark"] = rec.gbench;
      results.push_back(r);
    }
    out_.set("results", results);
  }

 private:
  static nlohmann::json counters(const Run& run) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [k, v] : run.counters) c[k] = v.value;
    return c;
  }

  ResultsWriter& out_;
  std::map<std::string, Record>& records_;
  const std::vector<std::string>& order_;
  const PeakContext& ctx_;
  std::set<std::string> reported_;
};

int run_bench(const BenchOptions& o, const std::vector<std::string>& extras,
              const Invocation& inv) {
  // Google Benchmark's flags first: a usage error is reported before looking for a GPU.
  std::vector<std::string> args = {"goodput bench"};
  args.insert(args.end(), extras.begin(), extras.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  benchmark::Initialize(&argc, argv.data());
  if (argc > 1)
    throw InputError(std::string("unknown argument '") + argv[1] +
                     "' (goodput bench takes its own flags and Google Benchmark's --benchmark_*)");

  std::unique_ptr<SuiteRun> run;
  try {
    run = start_suite_run(o, "bench", inv);
    const DeviceInfo& dev = run->dev;
    const PeakContext& ctx = run->ctx;
    ResultsWriter* out = run->out.get();
    TimingConfig cfg = default_timing(o.quick);
    cfg.flush_l2 = !o.warm;

    auto workloads = calibration_workloads(dev, o.quick, o.only);
    std::map<std::string, Record> records;
    std::vector<std::string> order;
    BenchSession session(dev, cfg);
    for (auto& w : workloads) {
      Record rec;
      rec.w = w.get();
      rec.m.name = w->name();
      rec.m.kind = w->kind();
      rec.m.params = w->params();
      rec.m.flops_per_run = w->flops_per_run();
      rec.m.bytes_per_run = w->bytes_per_run();
      rec.m.footprint_bytes = w->footprint_bytes();
      order.push_back(rec.m.name);
      Record* slot = &records.emplace(rec.m.name, std::move(rec)).first->second;
      benchmark::RegisterBenchmark(
          slot->m.name.c_str(), [&session, slot](benchmark::State& st) { session.run(st, *slot); })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
    SchemaReporter reporter(*out, records, order, ctx);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    session.finish();
    benchmark::Shutdown();
    reporter.write();
    std::vector<TelemetrySample> all;
    for (const auto& [name, rec] : records)
      all.insert(all.end(), rec.m.telemetry.begin(), rec.m.telemetry.end());
    auto regime = out->document()["regime"];
    regime["during"] = summarize_telemetry(all);
    if (!session.lost()) regime["after"] = to_json(gpu::sample_telemetry(dev));
    out->set("regime", regime);
    std::printf("results written to %s\n", out->path().c_str());
    if (session.lost()) {
      out->finish("failed", "the CUDA context was lost");
      throw RuntimeFailure("the CUDA context was lost; see the errors in " + out->path());
    }
    out->finish(interrupted() ? "interrupted" : "complete");
    return interrupted() ? kExitInterrupted : kExitOk;
  } catch (const Error& e) {
    record_failure(run.get(), o, "bench", inv, e.what());
    throw;
  }
}

#else

int run_bench(const BenchOptions&, const std::vector<std::string>&, const Invocation&) {
  throw RuntimeFailure(
      "this goodput was built without Google Benchmark (libbenchmark-dev); use "
      "`goodput calibrate`");
}

#endif

}  // namespace

Command bench_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "bench", "Run the calibration workloads under Google Benchmark (--benchmark_* flags work)");
  sub->allow_extras();
  auto o = std::make_shared<BenchOptions>();
  add_suite_options(sub, *o, "bench");
  sub->add_flag("--warm", o->warm, "Do not flush L2 between iterations");
  sub->footer(
      "Google Benchmark flags: --benchmark_filter=REGEX --benchmark_repetitions=N "
      "--benchmark_out=FILE --benchmark_out_format=json|csv|console --benchmark_min_time=...");
  return {sub, [o, sub](const Invocation& inv) { return run_bench(*o, sub->remaining(), inv); }};
}

}  // namespace goodput::cli
