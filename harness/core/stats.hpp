// Order statistics of timing samples. Plain data in, plain data out.
#pragma once
#include <cstddef>
#include <vector>

namespace goodput {

struct Stats {
  std::size_t n = 0;
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0;
  double p10 = 0, p25 = 0, p75 = 0, p90 = 0, p99 = 0;
  double mad = 0;         // median absolute deviation (unscaled)
  double rel_spread = 0;  // robust relative spread: 1.4826 * MAD / median
};

// Linear-interpolated quantile (q in [0,1]) of an already sorted, non-empty vector.
double quantile_sorted(const std::vector<double>& sorted, double q);
double median(std::vector<double> values);
double mad(const std::vector<double>& values);  // median(|x - median(x)|)
// Throws InputError on an empty vector or a non-finite sample.
Stats summarize(const std::vector<double>& samples);

}  // namespace goodput
