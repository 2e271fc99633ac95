#include "harness/core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "harness/core/error.hpp"

namespace goodput {

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw InputError("quantile of an empty sample");
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return quantile_sorted(values, 0.5);
}

double mad(const std::vector<double>& values) {
  const double m = median(values);
  std::vector<double> dev(values.size());
  std::transform(values.begin(), values.end(), dev.begin(),
                 [m](double v) { return std::abs(v - m); });
  return median(std::move(dev));
}

Stats summarize(const std::vector<double>& samples) {
  if (samples.empty()) throw InputError("no samples to summarize");
  for (double v : samples)
    if (!std::isfinite(v)) throw InputError("non-finite sample value");
  std::vector<double> s = samples;
  std::sort(s.begin(), s.end());
  Stats st;
  st.n = s.size();
  st.min = s.front();
  st.max = s.back();
  st.median = quantile_sorted(s, 0.5);
  st.p10 = quantile_sorted(s, 0.10);
  st.p25 = quantile_sorted(s, 0.25);
  st.p75 = quantile_sorted(s, 0.75);
  st.p90 = quantile_sorted(s, 0.90);
  st.p99 = quantile_sorted(s, 0.99);
  st.mean = std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size());
  double ss = 0;
  for (double v : s) ss += (v - st.mean) * (v - st.mean);
  st.stddev = s.size() > 1 ? std::sqrt(ss / static_cast<double>(s.size() - 1)) : 0.0;
  st.mad = mad(s);
  st.rel_spread = st.median != 0 ? 1.4826 * st.mad / std::abs(st.median) : 0.0;
  return st;
}

}  // namespace goodput
