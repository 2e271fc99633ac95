#include "collectives/sweep.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "harness/core/error.hpp"

namespace goodput::collectives {

std::uint64_t parse_size(const std::string& text, const std::string& what) {
  const auto bad = [&](const std::string& why) {
    return InputError(what + ": invalid size '" + text + "': " + why +
                      " (bytes, optionally with K, M or G = 1024, 1024^2, 1024^3)");
  };
  std::size_t end = 0;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
    ++end;
  if (end == 0) throw bad("no number");
  const std::string number = text.substr(0, end);
  char* stop = nullptr;
  const double value = std::strtod(number.c_str(), &stop);
  if (stop != number.c_str() + number.size()) throw bad("malformed number");
  std::string unit = text.substr(end);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b') && unit.size() <= 2)
    unit.pop_back();  // "1GB", "64KB", "8B"
  double mult = 1;
  if (unit.size() > 1) throw bad("unknown unit '" + unit + "'");
  if (unit.size() == 1) {
    switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
      case 'K':
        mult = 1024.0;
        break;
      case 'M':
        mult = 1024.0 * 1024;
        break;
      case 'G':
        mult = 1024.0 * 1024 * 1024;
        break;
      default:
        throw bad("unknown unit '" + unit + "'");
    }
  }
  const double bytes = value * mult;
  if (!std::isfinite(bytes) || bytes >= 18446744073709551615.0) throw bad("too large");
  if (bytes != std::floor(bytes)) throw bad("not a whole number of bytes");
  return static_cast<std::uint64_t>(bytes);
}

std::vector<std::uint64_t> sweep_sizes(const Sweep& s) {
  if (s.min_bytes > s.max_bytes)
    throw InputError("invalid size range: -b/--minbytes " + std::to_string(s.min_bytes) +
                     " is larger than -e/--maxbytes " + std::to_string(s.max_bytes));
  if (s.step_factor == 0) throw InputError("-f/--stepfactor must be at least 1");
  if (s.step_factor > 1 && s.min_bytes == 0 && s.max_bytes > 0)
    throw InputError("-b/--minbytes 0 with -f/--stepfactor " + std::to_string(s.step_factor) +
                     " never grows; start at 1 byte or more");
  if (s.step_factor == 1 && s.step_bytes == 0 && s.min_bytes != s.max_bytes)
    throw InputError("-i/--stepbytes must be positive when -f/--stepfactor is 1");
  std::vector<std::uint64_t> out;
  for (std::uint64_t size = s.min_bytes; size <= s.max_bytes;) {
    if (out.size() == kMaxSweepSizes)
      throw InputError("the size sweep has more than " + std::to_string(kMaxSweepSizes) +
                       " sizes; raise -f/--stepfactor or -i/--stepbytes");
    out.push_back(size);
    if (s.step_factor > 1 && size > UINT64_MAX / s.step_factor) break;
    const std::uint64_t next = s.step_factor > 1 ? size * s.step_factor : size + s.step_bytes;
    if (next <= size) break;  // overflow, or a single size (min == max, step 0)
    size = next;
  }
  return out;
}

}  // namespace goodput::collectives
