#include "profiler/analyze/intervals.hpp"

#include <algorithm>

namespace goodput::analyze {

std::vector<Interval> union_of(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> out;
  for (const auto& i : v) {
    if (!out.empty() && i.start <= out.back().end)
      out.back().end = std::max(out.back().end, i.end);
    else
      out.push_back(i);
  }
  return out;
}

std::int64_t total_length(const std::vector<Interval>& d) {
  std::int64_t t = 0;
  for (const auto& i : d) t += i.end - i.start;
  return t;
}

std::int64_t intersection_length(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::int64_t t = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const auto s = std::max(a[i].start, b[j].start);
    const auto e = std::min(a[i].end, b[j].end);
    if (e > s) t += e - s;
    if (a[i].end < b[j].end)
      ++i;
    else
      ++j;
  }
  return t;
}

}  // namespace goodput::analyze
