#include "collectives/sweep.hpp"

#include <gtest/gtest.h>

#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

TEST(ParseSize, PlainAndSuffixedSizes) {
  EXPECT_EQ(parse_size("8", "-b"), 8u);
  EXPECT_EQ(parse_size("0", "-b"), 0u);
  EXPECT_EQ(parse_size("1K", "-b"), 1024u);
  EXPECT_EQ(parse_size("128k", "-b"), 131072u);
  EXPECT_EQ(parse_size("1.5M", "-b"), 1572864u);
  EXPECT_EQ(parse_size("2G", "-b"), 2147483648u);
  EXPECT_EQ(parse_size("64KB", "-b"), 65536u);
  EXPECT_EQ(parse_size("16B", "-b"), 16u);
}

TEST(ParseSize, BadSizesNameTheFlag) {
  for (const char* bad : {"", "abc", "1X", "-1", "1.3", "1.2.3", "1MM", "M", "1 G"}) {
    try {
      parse_size(bad, "-e/--maxbytes");
      FAIL() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("-e/--maxbytes"), std::string::npos) << e.what();
    }
  }
}

TEST(Sweep, FactorSteps) {
  Sweep s{8, 128, 2, 0};
  EXPECT_EQ(sweep_sizes(s), (std::vector<std::uint64_t>{8, 16, 32, 64, 128}));
  s = {8, 100, 4, 0};  // max need not be on the grid
  EXPECT_EQ(sweep_sizes(s), (std::vector<std::uint64_t>{8, 32}));
  s = {1 << 20, 1 << 20, 2, 0};
  EXPECT_EQ(sweep_sizes(s), (std::vector<std::uint64_t>{1 << 20}));
}

TEST(Sweep, AdditiveSteps) {
  Sweep s{10, 35, 1, 10};
  EXPECT_EQ(sweep_sizes(s), (std::vector<std::uint64_t>{10, 20, 30}));
  s = {0, 0, 1, 0};
  EXPECT_EQ(sweep_sizes(s), (std::vector<std::uint64_t>{0}));
}

TEST(Sweep, InvalidRangesAreUsageErrors) {
  EXPECT_THROW(sweep_sizes({1 << 30, 1 << 20, 2, 0}), InputError);  // min > max
  EXPECT_THROW(sweep_sizes({8, 64, 0, 0}), InputError);             // factor 0
  EXPECT_THROW(sweep_sizes({8, 64, 1, 0}), InputError);             // never advances
  EXPECT_THROW(sweep_sizes({0, 64, 2, 0}), InputError);             // 0 x factor stays 0
  EXPECT_THROW(sweep_sizes({1, 1 << 20, 1, 1}), InputError);        // too many sizes
}

TEST(Sweep, StopsBeforeOverflow) {
  const auto sizes = sweep_sizes({1ull << 62, UINT64_MAX, 2, 0});
  EXPECT_EQ(sizes, (std::vector<std::uint64_t>{1ull << 62, 1ull << 63}));
}

}  // namespace
}  // namespace goodput::collectives
