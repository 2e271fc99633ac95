// Completed CUPTI activity buffers on their way from CUPTI's callback to the tracer's processing
// thread. CUPTI holds the program's threads back while its buffer callback runs, so the callback
// only queues; one thread decodes and writes; the final flush drains whatever is left on its own
// thread, after the buffer being written (if any) is done, so every buffer is written once.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace goodput::trace {

struct CompletedBuffer {
  std::uint8_t* buffer = nullptr;
  std::size_t valid = 0;    // bytes of records
  std::size_t dropped = 0;  // records CUPTI could not store for this buffer's stream
};

class CompletedQueue {
 public:
  using Process = std::function<void(const CompletedBuffer&)>;

  void push(const CompletedBuffer& b);
  // The processing thread: hands each buffer to `process` as it arrives, until stop().
  void run(const Process& process);
  // Waits for the buffer run() may be processing, then hands every queued one to `process` on
  // the calling thread. Returns how many it processed; nothing when the buffer being processed
  // did not finish within `wait` (a stuck writer must not hang the program's exit).
  std::optional<std::size_t> drain(const Process& process,
                                   std::chrono::milliseconds wait = std::chrono::seconds(30));
  void stop();
  std::size_t queued() const;

  // fork(): the parent holds the queue still across the fork; the child forgets the parent's
  // buffers (it neither writes nor reuses them) and has no processing thread.
  void lock_for_fork() { queue_mu_.lock(); }
  void unlock_after_fork(bool child);

 private:
  mutable std::mutex queue_mu_;  // guards queue_ and stop_; never held while processing
  std::timed_mutex process_mu_;  // held from taking a buffer until it is written
  std::condition_variable cv_;
  std::deque<CompletedBuffer> queue_;
  bool stop_ = false;
};

}  // namespace goodput::trace
