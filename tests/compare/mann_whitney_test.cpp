// Reference p-values from scipy.stats.mannwhitneyu (two-sided; "exact" or "asymptotic" with the
// continuity and tie corrections), computed once and written here.
#include "harness/compare/mann_whitney.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace goodput::compare;

TEST(MannWhitney, ExactNullDistributionSmallTable) {
  // m = 3, n = 4: frequencies 1,1,2,3,4,4,5,... of 35 arrangements.
  EXPECT_NEAR(exact_u_cdf(3, 4, 0), 1.0 / 35, 1e-15);
  EXPECT_NEAR(exact_u_cdf(3, 4, 1), 2.0 / 35, 1e-15);
  EXPECT_NEAR(exact_u_cdf(3, 4, 2), 4.0 / 35, 1e-15);
  EXPECT_NEAR(exact_u_cdf(3, 4, 3), 7.0 / 35, 1e-15);
  EXPECT_NEAR(exact_u_cdf(3, 4, 12), 1.0, 1e-15);
  EXPECT_EQ(exact_u_cdf(3, 4, -1), 0.0);
}

TEST(MannWhitney, CriticalValueMatchesTables) {
  // Published two-sided 5 % critical values: n = m = 10 -> 23, m = 8, n = 8 -> 13, 5/5 -> 2.
  EXPECT_EQ(exact_u_lower_critical(10, 10, 0.025), 23);
  EXPECT_EQ(exact_u_lower_critical(8, 8, 0.025), 13);
  EXPECT_EQ(exact_u_lower_critical(5, 5, 0.025), 2);
  EXPECT_EQ(exact_u_lower_critical(3, 3, 0.025), -1);  // no test possible at 5 %
}

TEST(MannWhitney, ExactWithoutTies) {
  std::vector<double> x, y;
  for (int i = 0; i < 10; ++i) {
    x.push_back(i);
    y.push_back(i + 100);
  }
  const auto r = mann_whitney(x, y);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 1.082508822446903e-05, 1e-12);
  const auto inter =
      mann_whitney({1.1, 2.3, 3.5, 4.0, 5.2, 6.8}, {2.2, 3.9, 4.4, 5.9, 7.1, 8.3, 9.0});
  EXPECT_DOUBLE_EQ(inter.u, 11);
  EXPECT_NEAR(inter.p_value, 0.18065268065268064, 1e-12);
  EXPECT_NEAR(mann_whitney({1, 2, 3}, {4, 5, 6}).p_value, 0.1, 1e-12);
}

TEST(MannWhitney, NormalApproximationWithTies) {
  const auto r = mann_whitney({1, 2, 2, 3, 3, 3, 5, 8}, {2, 3, 4, 4, 5, 6, 7, 9, 9});
  EXPECT_TRUE(r.ties);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 17);
  EXPECT_NEAR(r.p_value, 0.07201843365798612, 1e-9);
}

TEST(MannWhitney, NormalApproximationForLargeSamples) {
  std::vector<double> x, y;
  for (int i = 0; i < 60; ++i) x.push_back(i);
  for (int i = 0; i < 70; ++i) y.push_back(i + 7.5);
  const auto r = mann_whitney(x, y);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 1378);
  EXPECT_NEAR(r.p_value, 0.0007530213722032421, 1e-9);
}

TEST(MannWhitney, DegenerateInputs) {
  EXPECT_DOUBLE_EQ(mann_whitney({}, {1, 2}).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney({5, 5, 5}, {5, 5, 5, 5}).p_value, 1.0);  // all tied
}

TEST(HodgesLehmann, PointEstimateAndInterval) {
  std::vector<double> x, y;
  for (int i = 0; i < 10; ++i) {
    x.push_back(i);
    y.push_back(i + 5);
  }
  const auto s = hodges_lehmann(x, y, 0.95);
  EXPECT_DOUBLE_EQ(s.estimate, 5);
  EXPECT_TRUE(s.bounded);
  EXPECT_LT(s.lo, 5);
  EXPECT_GT(s.hi, 5);
  // [d_(24), d_(77)] of the 100 differences; coverage 1 - 2 P(U <= 23).
  EXPECT_NEAR(s.coverage, 1 - 2 * exact_u_cdf(10, 10, 23), 1e-12);
  EXPECT_GE(s.coverage, 0.95);
}

TEST(HodgesLehmann, TooFewSamplesGiveTheFullRangeFlagged) {
  const auto s = hodges_lehmann({1, 2, 3}, {2, 3, 4}, 0.95);
  EXPECT_FALSE(s.bounded);
  EXPECT_DOUBLE_EQ(s.lo, -1);
  EXPECT_DOUBLE_EQ(s.hi, 3);
  EXPECT_NEAR(s.coverage, 0.9, 1e-12);  // 1 - 2/20
}

TEST(HodgesLehmann, IntervalCoversTheTrueShiftAtTheStatedRate) {
  // 2000 simulated comparisons with a known shift: the 95 % interval must cover it ~95 % of
  // the time (binomial sd ~0.5 %), both in the exact regime and the normal one.
  for (const std::size_t n : {10u, 60u}) {
    std::mt19937_64 rng(42 + n);
    std::normal_distribution<double> noise(0.0, 1.0);
    int covered = 0;
    const int trials = 2000;
    for (int t = 0; t < trials; ++t) {
      std::vector<double> x(n), y(n);
      for (auto& v : x) v = noise(rng);
      for (auto& v : y) v = noise(rng) + 0.7;
      const auto s = hodges_lehmann(x, y, 0.95);
      covered += (s.lo <= 0.7 && 0.7 <= s.hi) ? 1 : 0;
    }
    const double rate = static_cast<double>(covered) / trials;
    EXPECT_GT(rate, 0.93) << n;
    EXPECT_LT(rate, 0.975) << n;
  }
}

// The order statistics of the pairwise differences, against sorting all of them: every size
// parity, ties, negative values, signed zeros and values of very different magnitudes.
TEST(HodgesLehmann, SameAsSortingEveryDifference) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> size(1, 70), small(-3, 3);
  std::normal_distribution<double> wide(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<double> x(static_cast<std::size_t>(size(rng))),
        y(static_cast<std::size_t>(size(rng)));
    const bool ties = trial % 3 == 0;
    for (auto* v : {&x, &y})
      for (auto& e : *v)
        e = ties ? (small(rng) == 0 ? -0.0 : small(rng)) : wide(rng) * std::pow(10.0, small(rng));
    std::vector<double> d;
    for (double yj : y)
      for (double xi : x) d.push_back(yj - xi);
    std::sort(d.begin(), d.end());
    const std::size_t c = d.size();
    const double median = c % 2 ? d[c / 2] : 0.5 * (d[c / 2 - 1] + d[c / 2]);
    for (const double level : {0.8, 0.95, 0.99}) {
      const auto s = hodges_lehmann(x, y, level);
      ASSERT_EQ(s.estimate, median) << trial;
      // The interval's ends are differences themselves: the same order statistics.
      ASSERT_TRUE(std::binary_search(d.begin(), d.end(), s.lo)) << trial;
      ASSERT_TRUE(std::binary_search(d.begin(), d.end(), s.hi)) << trial;
      const auto lo_rank = std::lower_bound(d.begin(), d.end(), s.lo) - d.begin();
      const auto hi_rank = d.end() - std::upper_bound(d.begin(), d.end(), s.hi);
      if (!s.bounded) {
        ASSERT_EQ(s.lo, d.front()) << trial;
        ASSERT_EQ(s.hi, d.back()) << trial;
      } else {
        // Symmetric ranks k and N-1-k, up to ties at either end.
        ASSERT_LE(lo_rank, static_cast<long>(c) / 2) << trial;
        ASSERT_LE(hi_rank, static_cast<long>(c) / 2) << trial;
      }
    }
  }
}

// Large samples cost memory and time in the samples, not in their products: 30,000 a side is
// 9·10^8 differences (7 GB had they been stored).
TEST(HodgesLehmann, LargeSamplesNeedNoPairwiseStore) {
  std::vector<double> x, y;
  for (int i = 0; i < 30000; ++i) {
    x.push_back(i);
    y.push_back(i + 7);
  }
  const auto s = hodges_lehmann(x, y, 0.95);
  EXPECT_EQ(s.estimate, 7);
  EXPECT_TRUE(s.bounded);
  EXPECT_EQ(s.lo + s.hi, 14);  // symmetric about the shift
  // The differences are 7 + (j - i); the lower end is the (mu - 1.96 sd)-th of them, U's mean
  // mu = n²/2 and sd = n·sqrt((2n + 1)/12): (n - t)(n - t + 1)/2 pairs lie at or below 7 - t,
  // so t = 139 for n = 30,000.
  EXPECT_EQ(s.lo, 7 - 139);
  EXPECT_EQ(s.hi, 7 + 139);
}
