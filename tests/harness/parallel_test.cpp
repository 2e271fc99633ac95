// parallel_for: every item once, and the lowest failing item's error whatever the scheduling.
#include "harness/core/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

namespace goodput {
namespace {

TEST(ParallelFor, RunsEveryItemOnce) {
  std::vector<std::atomic<int>> hits(1000);
  parallel_for(hits.size(), [&](std::size_t i) { ++hits[i]; });
  for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
  parallel_for(0, [](std::size_t) { FAIL() << "no item to run"; });
}

TEST(ParallelFor, RethrowsTheLowestFailingItemAfterAllRan) {
  for (int trial = 0; trial < 20; ++trial) {
    std::atomic<int> ran{0};
    try {
      parallel_for(64, [&](std::size_t i) {
        ++ran;
        if (i == 40 || i == 7 || i == 63) throw std::runtime_error("item " + std::to_string(i));
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "item 7");
    }
    EXPECT_EQ(ran.load(), 64);
  }
}

}  // namespace
}  // namespace goodput
