// Hardware counter sets for `--counters`, configured with CUPTI's profiler host API. The host
// API needs only the chip name, not a GPU, so the configuration and its pass count are known
// (and tested) anywhere. Collecting the counters per step on the GPU (the range profiler) is not
// implemented yet.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace goodput::trace {

// Metrics of a counter set. "flops": tensor-core operations (bf16 in / fp32 accumulate, fp8),
// DRAM bytes read and written, and GPU time: one pass on GH100, so no kernel replay is needed.
// InputError for an unknown set.
std::vector<std::string> counter_set_metrics(const std::string& set);

struct CounterConfig {
  std::string chip;                      // e.g. "GH100", as cuptiDeviceGetChipName reports it
  std::vector<std::string> metrics;      // those the chip has
  std::vector<std::string> unavailable;  // those it does not
  std::vector<std::uint8_t> config_image;
  std::size_t passes = 0;  // replay passes the configuration needs (1 = collect in one run)
};

// The range-profiler configuration for these metrics on this chip. RuntimeFailure when CUPTI does
// not know the chip or none of the metrics exists on it.
CounterConfig configure_counters(const std::string& chip, const std::vector<std::string>& metrics);

}  // namespace goodput::trace
