// Hardware counter sets for `--counters`, configured with CUPTI's profiler host API. The host
// API needs only the chip name, not a GPU, so the configuration and its pass count are known
// (and tested) anywhere. The range profiler (range_profiler.hpp) collects them per step.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "profiler/trace_format/counter_ranges.hpp"

namespace goodput::trace {

struct CounterConfig {
  std::string chip;                      // e.g. "GH100", as cuptiDeviceGetChipName reports it
  std::vector<std::string> metrics;      // those the chip has
  std::vector<std::string> unavailable;  // those it does not
  std::vector<std::uint8_t> counter_availability;  // from the device; empty: the chip's defaults
  std::vector<std::uint8_t> config_image;
  std::size_t passes = 0;  // replay passes the configuration needs (1 = collect in one run)
};

// The range-profiler configuration for these metrics on this chip. counter_availability: the
// device's counter availability image (only a real context gives one: never ask CUPTI for it
// without a device), or empty. RuntimeFailure when CUPTI does not know the chip or none of the
// metrics exists on it.
CounterConfig configure_counters(const std::string& chip, const std::vector<std::string>& metrics,
                                 std::vector<std::uint8_t> counter_availability = {});

// Metric values per range of a decoded counter data image, through the host API (no device
// calls, but CUPTI's profiler interface must have been initialised on a device). RuntimeFailure
// with CUPTI's error text when the image cannot be read.
struct DecodedRange {
  std::string name;
  std::vector<std::pair<std::string, double>> metrics;
};
std::vector<DecodedRange> evaluate_counter_data(const CounterConfig& config,
                                                const std::vector<std::uint8_t>& counter_data);

// "call: CUPTI_ERROR_NAME" for a failed CUPTI call.
std::string cupti_error(const char* call, int result);
// RuntimeFailure(cupti_error(call, result)) unless result is CUPTI_SUCCESS.
void check_cupti(const char* call, int result);

// A CUPTI parameter struct: zeroed, with its size set (CUPTI's versioning).
template <typename P>
P cupti_params(std::size_t struct_size) {
  P p{};
  p.structSize = struct_size;
  return p;
}

}  // namespace goodput::trace
