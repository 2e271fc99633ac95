#include "profiler/trace_format/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <cstdint>

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
