// `goodput devices`: every visible GPU, its identity, versions and peaks per data type.
#include <cstdio>

#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/gpu_spec.hpp"
#include "harness/core/results.hpp"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/telemetry.hpp"

namespace goodput::cli {
namespace {

std::string tflops(const std::optional<double>& v) {
  if (!v) return "      -";
  char b[32];
  std::snprintf(b, sizeof b, "%7.1f", *v / 1e12);
  return b;
}

void print_device(const DeviceInfo& d, const DevicePeaks& p) {
  std::printf("GPU %d: %s  (%s)\n", d.index, d.name.c_str(), d.uuid.c_str());
  std::printf("  compute capability %d.%d, %d SMs, %.1f GiB, L2 %.0f MiB, bus %s\n", d.cc_major,
              d.cc_minor, d.sms, static_cast<double>(d.memory_bytes) / (1u << 30),
              static_cast<double>(d.l2_bytes) / (1u << 20), d.pci_bus_id.c_str());
  std::printf("  SM clock %.0f MHz now, %.0f MHz max; memory clock %.0f MHz\n",
              d.sm_clock_mhz_current, d.sm_clock_mhz_max, d.mem_clock_mhz_max);
  std::printf("  driver %s (CUDA %d.%d), runtime %d.%d, cuBLAS %zu, NCCL %d\n",
              d.driver_release.empty() ? "?" : d.driver_release.c_str(), d.driver_version / 1000,
              (d.driver_version % 1000) / 10, d.runtime_version / 1000,
              (d.runtime_version % 1000) / 10, d.cublas_version, d.nccl_version);
  std::printf("  spec: %s%s%s\n", p.match == SpecMatch::kExact ? p.spec_name.c_str() : "DERIVED",
              p.note.empty() ? "" : " - ", p.note.c_str());
  std::printf("  %-12s %9s %9s %9s %9s   (dense TFLOP/s)\n", "dtype", "datasheet", "ds-clock",
              "max-clock", "now-clock");
  for (const auto& e : p.flops)
    std::printf("  %-12s   %s   %s   %s   %s\n", e.dtype.c_str(), tflops(e.datasheet).c_str(),
                tflops(e.at_datasheet_clock).c_str(), tflops(e.at_max_clock).c_str(),
                tflops(e.at_current_clock).c_str());
  if (p.hbm_bandwidth)
    std::printf("  memory bandwidth (datasheet) %.0f GB/s\n", *p.hbm_bandwidth / 1e9);
}

}  // namespace

Command devices_command(CLI::App& app) {
  auto* sub = app.add_subcommand("devices", "List visible GPUs with versions and peak FLOP/s");
  auto json = std::make_shared<std::string>();
  add_json_option(sub, *json);
  return {sub, [json](const Invocation& inv) {
            ResultsWriter out(*json, "devices", inv.argv);
            try {
              const SpecDb db = load_default_spec_db();
              auto devices = gpu::list_devices();
              nlohmann::json devs = nlohmann::json::array();
              for (auto& d : devices) {
                gpu::fill_from_nvml(d);
                const DevicePeaks peaks = device_peaks(db, d);
                print_device(d, peaks);
                auto j = to_json(d);
                j["peaks"] = to_json(peaks);
                devs.push_back(j);
              }
              out.set("devices", devs);
              out.finish("complete");
              return 0;
            } catch (const Error& e) {
              out.finish("failed", e.what());
              throw;
            }
          }};
}

}  // namespace goodput::cli
