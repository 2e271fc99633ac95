#include "harness/core/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "harness/core/error.hpp"

using namespace goodput;

TEST(Stats, OddCountMedianAndExtremes) {
  const Stats s = summarize({5, 1, 3, 2, 4});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_NEAR(s.stddev, std::sqrt(2.5), 1e-12);
}

TEST(Stats, EvenCountInterpolates) {
  EXPECT_DOUBLE_EQ(median({1, 2, 3, 10}), 2.5);
  EXPECT_DOUBLE_EQ(quantile_sorted({0, 10}, 0.9), 9.0);
  EXPECT_DOUBLE_EQ(quantile_sorted({0, 10, 20}, 0.25), 5.0);
}

TEST(Stats, MadAndRelativeSpread) {
  // |x - 3| = 2,1,0,1,7 -> MAD 1; rel_spread = 1.4826 * 1 / 3.
  const Stats s = summarize({1, 2, 3, 4, 10});
  EXPECT_DOUBLE_EQ(s.mad, 1);
  EXPECT_NEAR(s.rel_spread, 1.4826 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(summarize({7, 7, 7}).rel_spread, 0);
}

TEST(Stats, Percentiles) {
  std::vector<double> v;
  for (int i = 0; i <= 100; ++i) v.push_back(i);
  const Stats s = summarize(v);
  EXPECT_DOUBLE_EQ(s.p10, 10);
  EXPECT_DOUBLE_EQ(s.p90, 90);
  EXPECT_DOUBLE_EQ(s.p99, 99);
}

TEST(Stats, RejectsEmptyAndNonFinite) {
  EXPECT_THROW(summarize({}), InputError);
  EXPECT_THROW(summarize({1, std::numeric_limits<double>::quiet_NaN()}), InputError);
  EXPECT_THROW(summarize({1, std::numeric_limits<double>::infinity()}), InputError);
}
