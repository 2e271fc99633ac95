// Interval arithmetic on GPU timelines: unions, lengths and intersections of [start, end) ranges.
#pragma once
#include <cstdint>
#include <vector>

namespace goodput::analyze {

struct Interval {
  std::int64_t start = 0, end = 0;
};

// Sorted, disjoint union. Touching intervals merge (as HolisticTraceAnalysis merges them).
std::vector<Interval> union_of(std::vector<Interval> v);
std::int64_t total_length(const std::vector<Interval>& disjoint);
// |a ∩ b| for two sorted disjoint lists.
std::int64_t intersection_length(const std::vector<Interval>& a, const std::vector<Interval>& b);

}  // namespace goodput::analyze
