// The message-size sweep, nccl-tests style: -b min, -e max, -f factor (or -i step when f is 1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace goodput::collectives {

// "8", "128K", "1.5M", "1G": K/M/G are powers of 1024, as in nccl-tests. `what` names the flag
// in the InputError (e.g. "-b/--minbytes").
std::uint64_t parse_size(const std::string& text, const std::string& what);

struct Sweep {
  std::uint64_t min_bytes = 32ull << 20;
  std::uint64_t max_bytes = 32ull << 20;
  std::uint64_t step_factor = 2;  // > 1: multiply; 1: add step_bytes
  std::uint64_t step_bytes = 1ull << 20;
};

inline constexpr std::size_t kMaxSweepSizes = 4096;

// Every size of the sweep, min first. InputError for min > max, min 0 with a factor, factor 0,
// step 0 with factor 1, or more than kMaxSweepSizes sizes.
std::vector<std::uint64_t> sweep_sizes(const Sweep& s);

}  // namespace goodput::collectives
