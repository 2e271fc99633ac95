#include "harness/cli/calibration.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "harness/core/error.hpp"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/telemetry.hpp"
#include "kernels/suite.hpp"

namespace goodput::cli {

DeviceInfo select_device(int index) {
  auto devices = gpu::list_devices();
  if (index < 0 || index >= static_cast<int>(devices.size()))
    throw InputError("--device " + std::to_string(index) + ": " + std::to_string(devices.size()) +
                     " GPU(s) visible (indices 0.." + std::to_string(devices.size() - 1) + ")");
  DeviceInfo dev = devices[static_cast<std::size_t>(index)];
  gpu::fill_from_nvml(dev);
  return dev;
}

void add_suite_options(CLI::App* sub, SuiteOptions& o, const std::string& command) {
  add_json_option(sub, o.json)
      ->description("Write results to this JSON file (default goodput-results/" + command +
                    "-<sku>-<time>.json)");
  sub->add_flag("--quick", o.quick, "About one minute: fewer sizes, shorter time budgets");
  sub->add_option("--device", o.device, "CUDA device index")->check(CLI::NonNegativeNumber);
  // `bench` times the calibration kernels; collectives have their own command.
  const std::vector<std::string> suites =
      command == "bench" ? std::vector<std::string>{"memory", "gemm"}
                         : std::vector<std::string>{"memory", "gemm", "collectives"};
  sub->add_option("--only", o.only, "Run only one suite")->check(CLI::IsMember(suites));
}

std::unique_ptr<SuiteRun> start_suite_run(const SuiteOptions& o, const std::string& command,
                                          const Invocation& inv) {
  auto run = std::make_unique<SuiteRun>();
  run->dev = select_device(o.device);
  run->db = load_default_spec_db();
  run->ctx = PeakContext{&run->db, run->dev, device_peaks(run->db, run->dev)};
  const std::string sku =
      run->ctx.peaks.spec_name.empty() ? run->dev.name : run->ctx.peaks.spec_name;
  run->out = std::make_unique<ResultsWriter>(
      o.json.empty() ? default_results_path(command, sku) : o.json, command, inv.argv);
  run->out->set("devices", nlohmann::json::array({device_block(run->dev, run->ctx.peaks)}));
  auto before = to_json(gpu::sample_telemetry(run->dev));
  before["time"] = iso8601_now();
  run->out->set("regime",
                {{"nvml", gpu::nvml_available() ? "available" : gpu::nvml_unavailable_reason()},
                 {"before", before}});
  return run;
}

void record_failure(const SuiteRun* run, const SuiteOptions& o, const std::string& command,
                    const Invocation& inv, const std::string& error) {
  if (run && run->out) {
    if (run->out->document()["meta"]["status"] == "running") run->out->finish("failed", error);
  } else if (!o.json.empty()) {
    ResultsWriter(o.json, command, inv.argv).finish("failed", error);
  }
}

std::vector<WorkloadPtr> calibration_workloads(const DeviceInfo& dev, bool quick,
                                               const std::string& only) {
  std::vector<WorkloadPtr> out;
  if (only.empty() || only == "memory")
    for (auto& w : kernels::memory_suite(dev, quick)) out.push_back(std::move(w));
  if (only.empty() || only == "gemm")
    for (auto& w : kernels::gemm_suite(dev, quick)) out.push_back(std::move(w));
  if (out.empty())
    throw RuntimeFailure("no calibration benchmarks exist for " + dev.name + " (" +
                         arch_key(dev.cc_major, dev.cc_minor) +
                         "); this build has no kernels for it");
  return out;
}

nlohmann::json device_block(const DeviceInfo& dev, const DevicePeaks& peaks) {
  auto j = to_json(dev);
  j["peaks"] = to_json(peaks);
  return j;
}

std::string file_safe(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "gpu" : out;
}

std::string default_results_path(const std::string& command, const std::string& sku) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return "goodput-results/" + command + "-" + file_safe(sku) + "-" + stamp + ".json";
}

namespace {

double num(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0;
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// "  80.4%" or "      -" for a {"value","ratio"} comparison.
std::string ratio_cell(const nlohmann::json& cmp) {
  if (!cmp.is_object() || !cmp.contains("ratio")) return "      -";
  return fmt("%6.1f%%", 100 * cmp["ratio"].get<double>());
}

std::string value_cell(const nlohmann::json& cmp, double scale) {
  if (!cmp.is_object() || !cmp.contains("value")) return "       -";
  return fmt("%8.1f", cmp["value"].get<double>() / scale);
}

}  // namespace

std::string progress_line(const nlohmann::json& r) {
  std::string line = r.value("name", "?") + ": ";
  const std::string status = r.value("status", "?");
  if (status == "skipped") return line + "skipped (" + r.value("reason", "") + ")";
  if (status == "error") return line + "ERROR " + r.value("error", "");
  const auto& d = r.value("derived", nlohmann::json::object());
  if (num(d, "flops_per_s") > 0) line += fmt("%.1f TFLOP/s", num(d, "flops_per_s") / 1e12);
  if (num(d, "bytes_per_s") > 0) {
    if (num(d, "flops_per_s") > 0) line += ", ";
    line += fmt("%.1f GB/s", num(d, "bytes_per_s") / 1e9);
  }
  const auto& st = r.value("stats", nlohmann::json::object());
  line += fmt("  (median %.3f ms", num(st, "median") * 1e3);
  line += fmt(", spread %.2f%%", 100 * num(st, "rel_spread"));
  line += fmt(", %.0f samples", num(st, "n"));
  line += ", " + r.value("stop_reason", std::string("?"));
  const double throttled = num(r, "throttled_samples");
  if (throttled > 0) line += fmt(", %.0f THROTTLED", throttled);
  return line + ")";
}

std::string summary_table(const nlohmann::json& p) {
  std::string out;
  const auto& gemm = p.value("gemm", nlohmann::json::object());
  if (!gemm.empty()) {
    // Peaks in TFLOP/s: datasheet, at the datasheet clock, the max clock, the observed clock.
    char head[200];
    std::snprintf(head, sizeof head, "%-12s%9s  %8s %7s  %8s %7s  %8s %7s  %8s %7s   %s\n",
                  "GEMM dense", "TFLOP/s", "datasht", "ratio", "ds-clock", "ratio", "max-clk",
                  "ratio", "observed", "ratio", "problem");
    out += head;
    for (const auto& [dt, e] : gemm.items()) {
      const auto& best = e["best"];
      const auto& pk = e["peaks"];
      const auto cell = [&](const char* k) {
        const auto& c = pk.is_object() ? pk.value(k, nlohmann::json()) : nlohmann::json();
        return value_cell(c, 1e12) + " " + ratio_cell(c);
      };
      out += dt;
      out += std::string(dt.size() < 12 ? 12 - dt.size() : 1, ' ');
      out += fmt("%9.1f", num(best, "flops_per_s") / 1e12) + "  " + cell("datasheet") + "  " +
             cell("at_datasheet_clock") + "  " + cell("at_max_clock") + "  " +
             cell("at_observed_clock") + "   " + best.value("result", "") + "\n";
    }
  }
  const auto& mem = p.value("memory", nlohmann::json::object());
  const auto& ops = mem.value("ops", nlohmann::json::object());
  if (!ops.empty()) {
    char head[120];
    std::snprintf(head, sizeof head, "%-12s%9s  %8s %7s   %s\n", "memory", "GB/s", "datasht",
                  "ratio", "result");
    out += head;
    for (const auto& [op, e] : ops.items()) {
      const auto& best = e["best"];
      out += op + std::string(op.size() < 12 ? 12 - op.size() : 1, ' ');
      out += fmt("%9.1f", num(best, "bytes_per_s") / 1e9) + "  " + value_cell(e["datasheet"], 1e9) +
             "  " + ratio_cell(e["datasheet"]) + "   " + best.value("result", "") + "\n";
    }
  }
  const auto& clock = p.value("observed_sm_clock_mhz", nlohmann::json());
  if (clock.is_number())
    out += fmt("observed SM clock (median of samples): %.0f MHz\n", clock.get<double>());
  const auto& counts = p.value("results", nlohmann::json::object());
  out += fmt("results: %.0f ok", num(counts, "ok")) +
         fmt(", %.0f skipped", num(counts, "skipped")) +
         fmt(", %.0f failed\n", num(counts, "error"));
  return out;
}

}  // namespace goodput::cli
