#include "profiler/trace_format/completed_queue.hpp"

namespace goodput::trace {

void CompletedQueue::push(const CompletedBuffer& b) {
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(b);
  }
  cv_.notify_one();
}

void CompletedQueue::run(const Process& process) {
  for (;;) {
    {
      // Waits without process_mu_: drain() must be able to take it while this thread is idle.
      std::unique_lock lock(queue_mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
    }
    std::lock_guard processing(process_mu_);
    CompletedBuffer b;
    {
      std::lock_guard lock(queue_mu_);
      if (queue_.empty()) continue;  // drain() took it in between
      b = queue_.front();
      queue_.pop_front();
    }
    process(b);
  }
}

std::optional<std::size_t> CompletedQueue::drain(const Process& process,
                                                 std::chrono::milliseconds wait) {
  std::unique_lock processing(process_mu_, std::defer_lock);
  if (!processing.try_lock_for(wait)) return std::nullopt;
  std::deque<CompletedBuffer> rest;
  {
    std::lock_guard lock(queue_mu_);
    rest.swap(queue_);
  }
  for (const auto& b : rest) process(b);
  return rest.size();
}

void CompletedQueue::stop() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

std::size_t CompletedQueue::queued() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

void CompletedQueue::unlock_after_fork(bool child) {
  if (child) queue_.clear();
  queue_mu_.unlock();
}

}  // namespace goodput::trace
