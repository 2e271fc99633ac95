// Throughput of `goodput ledger` on a large log: N events from 8 ranks (steps, checkpoints, a
// restart), written to a temporary file, then read and computed as the command does.
// usage: goodput_ledger_bench [--events N]   (default 10,000,000)
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "profiler/ledger/ledger.hpp"

namespace {

std::size_t g_events = 10'000'000;

std::string make_log(std::size_t events) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("goodput_ledger_bench_" + std::to_string(getpid()) + ".jsonl");
  std::ofstream out(path);
  constexpr int kRanks = 8;
  const double t0 = 1767225600.0;
  out << "{\"v\":1,\"t\":" << t0 << ",\"kind\":\"job_start\",\"gpus\":64}\n";
  out << "{\"v\":1,\"t\":" << t0 << ",\"kind\":\"attempt_start\",\"attempt\":1}\n";
  char b[512];
  std::size_t written = 2;
  double t = t0 + 60;
  for (long step = 1; written + 2 * kRanks <= events; ++step) {
    for (int r = 0; r < kRanks; ++r) {
      std::snprintf(
          b, sizeof b,
          "{\"v\":1,\"t\":%.6f,\"kind\":\"step_start\",\"rank\":%d,\"attempt\":1,\"step\":%ld}\n"
          "{\"v\":1,\"t\":%.6f,\"kind\":\"step_end\",\"rank\":%d,\"attempt\":1,\"step\":%ld}\n",
          t + 0.001 * r, r, step, t + 0.95 + 0.001 * r, r, step);
      out << b;
    }
    written += 2 * kRanks;
    t += 1.0;
  }
  out << "{\"v\":1,\"t\":" << t << ",\"kind\":\"job_end\"}\n";
  return path.string();
}

void BM_Ledger(benchmark::State& state) {
  const std::string path = make_log(g_events);
  const auto bytes = std::filesystem::file_size(path);
  for (auto _ : state) {
    const auto log = goodput::ledger::read_event_logs({path}, {});
    const auto l = goodput::ledger::compute_ledger(log, {});
    benchmark::DoNotOptimize(l.framework_goodput);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(g_events) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  std::filesystem::remove(path);
}
BENCHMARK(BM_Ledger)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--events") == 0) g_events = std::strtoull(argv[i + 1], nullptr, 10);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
