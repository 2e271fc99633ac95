// The queue between CUPTI's buffer callback and the tracer's processing thread: the final flush
// never waits on an idle processing thread, and every buffer is written exactly once.
#include "profiler/trace_format/completed_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using goodput::trace::CompletedBuffer;
using goodput::trace::CompletedQueue;
using namespace std::chrono_literals;

namespace {

CompletedBuffer buffer(std::size_t id) {
  return {nullptr, id, 0};
}

}  // namespace

TEST(CompletedQueue, DrainDoesNotWaitForAnIdleProcessingThread) {
  CompletedQueue q;
  std::thread worker([&] { q.run([](const CompletedBuffer&) {}); });
  std::this_thread::sleep_for(50ms);  // the worker now waits for buffers
  auto drained =
      std::async(std::launch::async, [&] { return q.drain([](const CompletedBuffer&) {}, 10s); });
  const bool returned = drained.wait_for(5s) == std::future_status::ready;
  q.stop();  // also frees a drain() stuck behind the worker, so a failure does not hang
  worker.join();
  EXPECT_TRUE(returned) << "drain() blocked on an idle worker";
  EXPECT_EQ(drained.get(), std::optional<std::size_t>(0));
}

TEST(CompletedQueue, DrainGivesUpOnAStuckWriter) {
  CompletedQueue q;
  std::promise<void> started, release;
  auto release_f = release.get_future().share();
  std::thread worker([&] {
    q.run([&](const CompletedBuffer& b) {
      if (b.valid != 1) return;
      started.set_value();
      release_f.wait();  // a writer that does not come back
    });
  });
  q.push(buffer(1));
  started.get_future().wait();
  q.push(buffer(2));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.drain([](const CompletedBuffer&) {}, 100ms).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(q.queued(), 1u);  // left for whoever comes next
  release.set_value();
  q.stop();
  worker.join();
}

TEST(CompletedQueue, EveryBufferIsProcessedExactlyOnce) {
  CompletedQueue q;
  std::mutex mu;
  std::multiset<std::size_t> seen;
  auto record = [&](const CompletedBuffer& b) {
    std::this_thread::sleep_for(10us);
    std::lock_guard lock(mu);
    seen.insert(b.valid);
  };
  std::thread worker([&] { q.run(record); });
  constexpr std::size_t kBuffers = 2000;
  std::thread producer([&] {
    for (std::size_t i = 0; i < kBuffers; ++i) q.push(buffer(i));
  });
  std::this_thread::sleep_for(5ms);
  q.drain(record);  // while the worker and the producer still run
  producer.join();
  q.drain(record);  // the final flush
  EXPECT_EQ(q.queued(), 0u);
  q.stop();
  worker.join();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), kBuffers);
  for (std::size_t i = 0; i < kBuffers; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
}

TEST(CompletedQueue, DrainWaitsForTheBufferBeingWritten) {
  CompletedQueue q;
  std::promise<void> started, release;
  auto release_f = release.get_future().share();
  std::vector<std::size_t> order;
  std::mutex mu;
  std::thread worker([&] {
    q.run([&](const CompletedBuffer& b) {
      if (b.valid == 1) {
        started.set_value();
        release_f.wait();
      }
      std::lock_guard lock(mu);
      order.push_back(b.valid);
    });
  });
  q.push(buffer(1));
  started.get_future().wait();  // the worker is writing buffer 1
  q.push(buffer(2));
  auto drained = std::async(std::launch::async, [&] {
    return q.drain([&](const CompletedBuffer& b) {
      std::lock_guard lock(mu);
      order.push_back(b.valid);
    });
  });
  EXPECT_EQ(drained.wait_for(100ms), std::future_status::timeout)
      << "drain() returned while buffer 1 was still being written";
  release.set_value();
  ASSERT_EQ(drained.wait_for(5s), std::future_status::ready);
  EXPECT_LE(drained.get().value_or(99), 1u);  // buffer 2: whichever thread took it first
  {
    // When drain() returns, every buffer queued before it was called is written.
    std::lock_guard lock(mu);
    EXPECT_EQ(order, (std::vector<std::size_t>{1, 2}));
  }
  q.stop();
  worker.join();
}

TEST(CompletedQueue, ChildForgetsTheParentsBuffersAfterFork) {
  CompletedQueue q;
  q.push(buffer(7));
  q.lock_for_fork();
  q.unlock_after_fork(/*child=*/true);
  EXPECT_EQ(q.queued(), 0u);
  q.push(buffer(8));
  q.lock_for_fork();
  q.unlock_after_fork(/*child=*/false);
  EXPECT_EQ(q.queued(), 1u);
}
