#include "harness/compare/mann_whitney.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>

namespace goodput::compare {
namespace {

// Beyond this the exact distribution costs too much and the normal approximation is good.
constexpr std::size_t kExactMax = 50;

// Null frequencies of U for sizes m, n (index u = 0..m*n), from the recurrence
// f(m,n,u) = f(m-1,n,u-n) + f(m,n-1,u) (Mann & Whitney 1947).
std::vector<double> u_frequencies(std::size_t m, std::size_t n) {
  const std::size_t top = m * n + 1;
  std::vector<std::vector<double>> prev(n + 1, std::vector<double>(top, 0.0));
  for (auto& row : prev) row[0] = 1.0;  // m = 0: only U = 0
  auto cur = prev;
  for (std::size_t i = 1; i <= m; ++i) {
    std::fill(cur[0].begin(), cur[0].end(), 0.0);
    cur[0][0] = 1.0;  // n = 0: only U = 0
    for (std::size_t j = 1; j <= n; ++j) {
      for (std::size_t u = 0; u < top; ++u)
        cur[j][u] = (u >= j ? prev[j][u - j] : 0.0) + cur[j - 1][u];
    }
    std::swap(prev, cur);
  }
  return prev[n];
}

std::vector<double> u_cdf_table(std::size_t m, std::size_t n) {
  auto f = u_frequencies(m, n);
  const double total = std::accumulate(f.begin(), f.end(), 0.0);
  double run = 0;
  for (auto& v : f) {
    run += v;
    v = run / total;
  }
  return f;
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// z with normal_cdf(z) = p, by bisection (p in (0,1)); accuracy far beyond what a CI needs.
double normal_quantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_cdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

bool use_exact(std::size_t m, std::size_t n) {
  return m <= kExactMax && n <= kExactMax;
}

// The m·n differences y_j - x_i, never stored: two runs of 20,000 samples would need 3.2 GB for
// them and a sort of 4·10^8 values. An order statistic is found by bisecting the doubles
// themselves (at most 64 steps), each step counting the differences at or below a value in
// O(m + n) on the sorted samples. Rounding is monotone, so the count sees exactly the computed
// differences a sort would, and the result is the same double.
class PairwiseDifferences {
 public:
  PairwiseDifferences(std::vector<double> x, std::vector<double> y)
      : x_(std::move(x)), y_(std::move(y)) {
    std::sort(x_.begin(), x_.end());
    std::sort(y_.begin(), y_.end());
  }
  std::size_t size() const { return x_.size() * y_.size(); }

  // The k-th smallest difference, 0-based: the least value with more than k differences at or
  // below it.
  double order(std::size_t k) const {
    std::uint64_t lo = key(y_.front() - x_.back()), hi = key(y_.back() - x_.front());
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (at_or_below(value(mid)) > k)
        hi = mid;
      else
        lo = mid + 1;
    }
    return value(lo) + 0.0;  // -0.0 and 0.0 count alike: give 0.0
  }

 private:
  // Differences <= t: for each y_j (ascending), the x_i from the first with y_j - x_i <= t on;
  // that first index only moves right as y_j grows.
  std::size_t at_or_below(double t) const {
    std::size_t count = 0, first = 0;
    for (const double yj : y_) {
      while (first < x_.size() && !(yj - x_[first] <= t)) ++first;
      count += x_.size() - first;
    }
    return count;
  }
  // Doubles mapped to unsigned integers in the same order (negatives reversed).
  static std::uint64_t key(double v) {
    const auto b = std::bit_cast<std::uint64_t>(v);
    return b >> 63 ? ~b : b | (std::uint64_t{1} << 63);
  }
  static double value(std::uint64_t k) {
    return std::bit_cast<double>(k >> 63 ? k & ~(std::uint64_t{1} << 63) : ~k);
  }
  std::vector<double> x_, y_;
};

}  // namespace

double exact_u_cdf(std::size_t m, std::size_t n, double u) {
  if (u < 0) return 0.0;
  const auto table = u_cdf_table(m, n);
  const auto idx = static_cast<std::size_t>(std::floor(u));
  return idx >= table.size() ? 1.0 : table[idx];
}

long exact_u_lower_critical(std::size_t m, std::size_t n, double tail) {
  const auto table = u_cdf_table(m, n);
  long k = -1;
  for (std::size_t u = 0; u < table.size() && table[u] <= tail; ++u) k = static_cast<long>(u);
  return k;
}

MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitney r;
  const std::size_t m = x.size(), n = y.size();
  if (m == 0 || n == 0) return r;
  // Midranks of the pooled sample.
  std::vector<std::pair<double, int>> pooled;
  pooled.reserve(m + n);
  for (double v : x) pooled.emplace_back(v, 0);
  for (double v : y) pooled.emplace_back(v, 1);
  std::sort(pooled.begin(), pooled.end());
  double rank_sum_x = 0, tie_term = 0;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double midrank = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1..j
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second == 0) rank_sum_x += midrank;
    if (t > 1) {
      r.ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  r.u = rank_sum_x - dm * (dm + 1) / 2;
  const double mu = dm * dn / 2;
  if (!r.ties && use_exact(m, n)) {
    r.exact = true;
    const double u_small = std::min(r.u, dm * dn - r.u);
    r.p_value = std::min(1.0, 2.0 * exact_u_cdf(m, n, u_small));
    return r;
  }
  const double total = dm + dn;
  const double var = dm * dn / 12.0 * ((total + 1) - tie_term / (total * (total - 1)));
  if (var <= 0) {  // every value equal: no evidence of a difference
    r.p_value = 1.0;
    return r;
  }
  const double z = std::max(0.0, (std::abs(r.u - mu) - 0.5) / std::sqrt(var));  // continuity
  r.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return r;
}

ShiftEstimate hodges_lehmann(const std::vector<double>& x, const std::vector<double>& y,
                             double level) {
  ShiftEstimate s;
  const std::size_t m = x.size(), n = y.size();
  if (m == 0 || n == 0) return s;
  const PairwiseDifferences d(x, y);
  const std::size_t count = d.size();
  s.estimate = count % 2 ? d.order(count / 2) : 0.5 * (d.order(count / 2 - 1) + d.order(count / 2));

  // The interval [d_(k), d_(N-k+1)] covers the shift with probability 1 - 2 P(U <= k-1).
  const double tail = (1.0 - level) / 2.0;
  long crit = 0;     // largest c with P(U <= c) <= tail
  double below = 0;  // P(U <= crit)
  if (use_exact(m, n)) {
    crit = exact_u_lower_critical(m, n, tail);
    below = crit >= 0 ? exact_u_cdf(m, n, static_cast<double>(crit)) : 0.0;
  } else {
    const double dm = static_cast<double>(m), dn = static_cast<double>(n);
    const double mu = dm * dn / 2, sd = std::sqrt(dm * dn * (dm + dn + 1) / 12.0);
    crit = static_cast<long>(std::floor(mu + normal_quantile(tail) * sd - 0.5));
    below = crit >= 0 ? normal_cdf((static_cast<double>(crit) + 0.5 - mu) / sd) : 0.0;
  }
  if (crit < 0) {  // too few samples for this level: report the full range, flagged
    s.lo = d.order(0);
    s.hi = d.order(count - 1);
    s.coverage = 1.0 - 2.0 * (use_exact(m, n) ? exact_u_cdf(m, n, 0) : 0.0);
    s.bounded = false;
    return s;
  }
  const auto k = static_cast<std::size_t>(crit);  // 0-based index of d_(crit+1)
  s.lo = d.order(k);
  s.hi = d.order(count - 1 - k);
  s.coverage = 1.0 - 2.0 * below;
  s.bounded = true;
  return s;
}

}  // namespace goodput::compare
