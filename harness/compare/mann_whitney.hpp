// Mann-Whitney U test and the Hodges-Lehmann shift estimate with its distribution-free
// confidence interval: rank statistics, so one slow outlier sample cannot fake a regression.
#pragma once
#include <cstddef>
#include <vector>

namespace goodput::compare {

struct MannWhitney {
  double u = 0;        // U of the first sample (count of pairs x > y, ties count 1/2)
  double p_value = 1;  // two-sided
  bool exact = false;  // exact null distribution (no ties, small samples) or normal approximation
  bool ties = false;
};

// Two-sided test of "x and y come from the same distribution". Empty input gives p = 1.
MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

// Exact null distribution of U for sample sizes m and n without ties: P(U <= u).
double exact_u_cdf(std::size_t m, std::size_t n, double u);
// Largest k with P(U <= k) <= tail under the null (exact); -1 when even P(U <= 0) exceeds it.
long exact_u_lower_critical(std::size_t m, std::size_t n, double tail);

struct ShiftEstimate {
  double estimate = 0;    // median of all pairwise differences y_j - x_i
  double lo = 0, hi = 0;  // confidence interval of the shift
  double coverage = 0;    // the interval's actual coverage (discrete: at least the level asked)
  bool bounded = false;   // false when the samples are too few for the level asked
};

// Hodges-Lehmann estimate of the shift y - x and its confidence interval at `level` (e.g. 0.95),
// from the order statistics of the pairwise differences (Bauer 1972).
ShiftEstimate hodges_lehmann(const std::vector<double>& x, const std::vector<double>& y,
                             double level);

}  // namespace goodput::compare
