// Pieces shared by `goodput calibrate` and `goodput bench`: choosing the device, building the
// benchmark list, the results' device block and the terminal summary. Host code.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/cli/command.hpp"
#include "harness/core/device_info.hpp"
#include "harness/core/gpu_spec.hpp"
#include "harness/core/results.hpp"
#include "harness/core/timing.hpp"
#include "harness/core/workload.hpp"

namespace goodput::cli {

struct SuiteOptions {
  std::string json;
  bool quick = false;
  int device = 0;
  std::string only;  // "", "memory" or "gemm"
};
// --json, --quick, --device, --only.
void add_suite_options(CLI::App* sub, SuiteOptions& o, const std::string& command);

// The device, its spec and peaks, and the results document of a calibrate or bench run.
struct SuiteRun {
  DeviceInfo dev;
  SpecDb db;
  PeakContext ctx;  // points into db: a SuiteRun is never copied or moved
  std::unique_ptr<ResultsWriter> out;
};
// Selects the device and opens the results document (devices and regime "before" set).
std::unique_ptr<SuiteRun> start_suite_run(const SuiteOptions& o, const std::string& command,
                                          const Invocation& inv);
// After an error: marks the document failed; without a device (no SKU for a default name) only
// an explicit --json gets a document, so that a failed run still says why where one was asked.
void record_failure(const SuiteRun* run, const SuiteOptions& o, const std::string& command,
                    const Invocation& inv, const std::string& error);

// The device `--device N` names, with its NVML fields filled. NoGpuError without a GPU;
// InputError when N is out of range.
DeviceInfo select_device(int index);
// memory_suite then gemm_suite; `only` is "", "memory" or "gemm".
std::vector<WorkloadPtr> calibration_workloads(const DeviceInfo& dev, bool quick,
                                               const std::string& only);
// The devices entry of the results document: the device and its peaks.
nlohmann::json device_block(const DeviceInfo& dev, const DevicePeaks& peaks);
// goodput-results/<command>-<sku>-<UTC timestamp>.json, the sku made file-name safe.
std::string default_results_path(const std::string& command, const std::string& sku);
std::string file_safe(const std::string& s);
// One line per measurement while the run goes.
std::string progress_line(const nlohmann::json& result);
// Human-readable table of a peak_profile section.
std::string summary_table(const nlohmann::json& peak_profile);

}  // namespace goodput::cli
