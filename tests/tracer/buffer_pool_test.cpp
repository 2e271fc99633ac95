#include "profiler/trace_format/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

using namespace goodput::trace;

TEST(BufferPool, RefusesPastTheCapAndCounts) {
  BufferPool pool(1000, 3000);  // rounded to 1000 (multiple of 8): three buffers fit
  EXPECT_EQ(pool.buffer_bytes(), 1000u);
  auto* a = pool.acquire();
  auto* b = pool.acquire();
  auto* c = pool.acquire();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 8, 0u);
  EXPECT_EQ(pool.acquire(), nullptr);
  EXPECT_EQ(pool.refused(), 1u);
  EXPECT_EQ(pool.requested(), 4u);
  EXPECT_EQ(pool.in_use_bytes(), 3000u);
  pool.release(b);
  EXPECT_EQ(pool.in_use_bytes(), 2000u);
  EXPECT_EQ(pool.acquire(), b);  // reused, no new memory
  EXPECT_EQ(pool.peak_bytes(), 3000u);
  pool.release(a);
  pool.release(b);
  pool.release(c);
  EXPECT_EQ(pool.in_use_bytes(), 0u);
  const auto j = pool.to_json();
  EXPECT_EQ(j["buffers_refused"], 1);
  EXPECT_EQ(j["cap_bytes"], 3000);
}

TEST(BufferPool, SizeIsRoundedToRecordAlignment) {
  BufferPool pool(1001, 1 << 20);
  EXPECT_EQ(pool.buffer_bytes(), 1008u);
  BufferPool tiny(100, 50);  // a cap below one buffer refuses everything
  EXPECT_EQ(tiny.acquire(), nullptr);
  EXPECT_EQ(tiny.refused(), 1u);
}

namespace {
bool all_zero(const std::uint8_t* b, std::size_t n) {
  return std::all_of(b, b + n, [](std::uint8_t x) { return x == 0; });
}
}  // namespace

// Zeroed mode (CUPTI_ACTIVITY_ATTR_ZEROED_OUT_ACTIVITY_BUFFER): every buffer handed out is all
// zero, a used one is cleared on release, and reserve() prepares spares within the cap so that
// acquire() allocates nothing.
TEST(BufferPool, ZeroedModeHandsOutClearedBuffers) {
  BufferPool pool(64 << 10, 4 * (64 << 10), true);
  EXPECT_TRUE(pool.zeroed());
  EXPECT_EQ(pool.reserve(2), 2u);
  EXPECT_EQ(pool.reserve(2), 0u);  // already two spare
  auto* a = pool.acquire();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 8, 0u);
  EXPECT_TRUE(all_zero(a, pool.buffer_bytes()));
  EXPECT_EQ(pool.allocated_on_request(), 0u);
  std::memset(a, 0xab, 1000);
  a[pool.buffer_bytes() - 1] = 7;  // past the records too: the whole buffer is cleared
  pool.release(a);
  auto* again = pool.acquire();
  EXPECT_EQ(again, a);  // the warm one first
  EXPECT_TRUE(all_zero(again, pool.buffer_bytes()));
  // Two are spare again; the cap leaves room for two more (four buffers in all).
  pool.release(again);
  EXPECT_EQ(pool.reserve(3), 1u);
  EXPECT_EQ(pool.reserve(8), 1u);
  EXPECT_EQ(pool.reserve(8), 0u);  // at the cap
  std::uint8_t* held[4];
  for (auto*& h : held) {
    h = pool.acquire();
    ASSERT_NE(h, nullptr);
    EXPECT_TRUE(all_zero(h, pool.buffer_bytes()));
  }
  EXPECT_EQ(pool.acquire(), nullptr);
  EXPECT_EQ(pool.allocated_on_request(), 0u);
  for (auto* h : held) pool.release(h);
  const auto j = pool.to_json();
  EXPECT_EQ(j["zeroed_by_tracer"], true);
  EXPECT_EQ(j["buffers_prepared"], 4);
  EXPECT_EQ(j["buffers_allocated_on_request"], 0);
}

TEST(BufferPool, ZeroedModeAllocatesOnRequestWhenNoSpareIsReady) {
  BufferPool pool(4096, 1 << 20, true);
  auto* a = pool.acquire();  // nothing reserved: allocated here, still zero
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(all_zero(a, pool.buffer_bytes()));
  EXPECT_EQ(pool.allocated_on_request(), 1u);
  pool.release(a);
}

TEST(BufferPool, PlainModeNeitherReservesNorClears) {
  BufferPool pool(4096, 1 << 20);
  EXPECT_FALSE(pool.zeroed());
  EXPECT_EQ(pool.reserve(4), 0u);
  auto* a = pool.acquire();
  ASSERT_NE(a, nullptr);
  a[0] = 1;
  pool.release(a);
  EXPECT_EQ(pool.acquire(), a);
  EXPECT_EQ(a[0], 1);  // CUPTI clears it in this mode
  pool.release(a);
}
